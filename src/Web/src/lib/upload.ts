// Uploads a file as an asset: POST /v1/assets/init (a SAS link straight to Blob Storage), PUT the bytes there with
// progress (XMLHttpRequest: fetch has no upload progress), then POST /v1/assets/complete (probed, ready).
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import type { Asset } from '@/api/types';

export type UploadProgress = { loaded: number; total: number };

export function putWithProgress(
  url: string,
  file: Blob,
  method: string,
  headers: Record<string, string>,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method || 'PUT', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`The storage refused the upload (HTTP ${xhr.status}).`));
    xhr.onerror = () => reject(new Error('The upload could not reach the storage (network or CORS).'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

export async function uploadAsset(file: File, onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<Asset> {
  const ticket = unwrap(
    await api.POST('/v1/assets/init', {
      body: { filename: file.name, content_type: file.type || 'application/octet-stream', size_bytes: file.size },
    }),
  );
  await putWithProgress(ticket.upload_url, file, ticket.upload_method, ticket.upload_headers, onProgress, signal);
  return unwrap(await api.POST('/v1/assets/complete', { body: { asset_id: ticket.asset.id } }));
}
