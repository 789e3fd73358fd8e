import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FileAudio, FileImage, FileVideo, FolderOpen, Trash2, UploadCloud } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { num, type Asset } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, EmptyState, ErrorState, FormField, PageHeader, Select, Skeleton } from '@/components/ui';
import { ProgressBar } from '@/components/ui/feedback';
import { Dialog, DialogClose, DialogContent } from '@/components/ui/dialog';
import { useToast } from '@/components/ui/toast';
import { cn } from '@/lib/cn';
import { formatBytes, formatDuration, timeAgo } from '@/lib/format';
import { uploadAsset } from '@/lib/upload';

type Upload = { id: number; name: string; progress: number; error?: string; done?: boolean };
let uploadSeq = 1;

function AssetIcon({ type }: { type: string }) {
  const Icon = type === 'video' ? FileVideo : type === 'audio' ? FileAudio : FileImage;
  return <Icon className="size-8 text-neutral-400" aria-hidden="true" />;
}

function Preview({ asset, onClose }: { asset: Asset; onClose: () => void }) {
  const full = useQuery({
    queryKey: ['asset', asset.id],
    queryFn: async () => unwrap(await api.GET('/v1/assets/{assetId}', { params: { path: { assetId: asset.id } } })),
  });
  const url = full.data?.download_url;
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title={asset.filename ?? asset.id} description={`${asset.type} · ${formatBytes(num(asset.size_bytes))}`} className="max-w-2xl">
        {full.isPending && <Skeleton className="h-64" />}
        {full.isError && <ErrorState error={full.error} />}
        {url && asset.type === 'video' && <video src={url} controls className="max-h-[60vh] w-full rounded-lg bg-black" aria-label={`Preview of ${asset.filename ?? asset.id}`} />}
        {url && asset.type === 'image' && <img src={url} alt={asset.filename ?? 'Uploaded image'} className="max-h-[60vh] w-full rounded-lg object-contain" />}
        {url && asset.type === 'audio' && <audio src={url} controls className="w-full" aria-label={`Preview of ${asset.filename ?? asset.id}`} />}
        {full.data && !url && <p className="text-sm text-neutral-500">No preview is available for this asset.</p>}
        {full.data && (
          <dl className="mt-4 grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
            {full.data.width != null && <div><dt className="text-neutral-500">Size</dt><dd>{num(full.data.width)}×{num(full.data.height)}</dd></div>}
            {full.data.duration_seconds != null && <div><dt className="text-neutral-500">Duration</dt><dd>{formatDuration(num(full.data.duration_seconds))}</dd></div>}
            {full.data.codec && <div><dt className="text-neutral-500">Codec</dt><dd>{full.data.codec}</dd></div>}
            <div><dt className="text-neutral-500">Source</dt><dd className="capitalize">{full.data.source}</dd></div>
          </dl>
        )}
      </DialogContent>
    </Dialog>
  );
}

function ConfirmDelete({ asset, onClose }: { asset: Asset; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const del = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/assets/{assetId}', { params: { path: { assetId: asset.id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['assets'] });
      toast({ title: 'Deleted', description: asset.filename ?? asset.id });
      onClose();
    },
  });
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title="Delete this asset?" description={`${asset.filename ?? asset.id} is removed from storage. Jobs that already used it keep their videos.`}>
        {del.isError && <Alert className="mb-3">{errorMessage(del.error)}</Alert>}
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button variant="secondary">Keep it</Button>
          </DialogClose>
          <Button variant="destructive" loading={del.isPending} onClick={() => del.mutate()}>
            Delete
          </Button>
        </div>
      </DialogContent>
    </Dialog>
  );
}

export default function Assets() {
  const qc = useQueryClient();
  const { me } = useAuth();
  const canUpload = hasRole(me, 'editor');
  const [type, setType] = useState('all');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [preview, setPreview] = useState<Asset | null>(null);
  const [deleting, setDeleting] = useState<Asset | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const assets = useQuery({
    queryKey: ['assets', { type }],
    queryFn: async () => unwrap(await api.GET('/v1/assets', { params: { query: { limit: '100', ...(type !== 'all' ? { type } : {}) } } })),
  });

  const start = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const id = uploadSeq++;
      setUploads((u) => [...u, { id, name: file.name, progress: 0 }]);
      const update = (patch: Partial<Upload>) => setUploads((u) => u.map((x) => (x.id === id ? { ...x, ...patch } : x)));
      uploadAsset(file, (p) => update({ progress: (p.loaded / Math.max(1, p.total)) * 100 }))
        .then(() => {
          update({ progress: 100, done: true });
          void qc.invalidateQueries({ queryKey: ['assets'] });
          setTimeout(() => setUploads((u) => u.filter((x) => x.id !== id)), 3000);
        })
        .catch((e) => update({ error: errorMessage(e) }));
    }
  };

  const list = assets.data?.data ?? [];
  const shown = type === 'all' ? list : list.filter((a) => a.type === type);

  return (
    <>
      <PageHeader title="Assets" description="Clips, images and audio you upload, and the media your jobs made." />
      {canUpload && (
        <div
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            if (e.dataTransfer.files.length) start(e.dataTransfer.files);
          }}
          className={cn('mb-6 flex flex-col items-center gap-2 rounded-xl border-2 border-dashed px-6 py-8 text-center transition-colors', dragging ? 'border-accent-500 bg-accent-50' : 'border-neutral-300 bg-white')}
        >
          <UploadCloud className="size-8 text-accent-600" aria-hidden="true" />
          <p className="text-sm font-medium">Drop files here to upload</p>
          <p className="text-xs text-neutral-500">Video, image or audio. Files go straight to storage.</p>
          <input
            ref={input}
            type="file"
            multiple
            accept="video/*,image/*,audio/*"
            className="sr-only"
            aria-label="Choose files to upload"
            onChange={(e) => {
              if (e.target.files?.length) start(e.target.files);
              e.target.value = '';
            }}
          />
          <Button variant="secondary" size="sm" onClick={() => input.current?.click()}>
            Choose files
          </Button>
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="mb-6 space-y-2" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id} className="rounded-lg border border-neutral-200 bg-white p-3">
              <div className="mb-1 flex justify-between gap-2 text-sm">
                <span className="truncate font-medium">{u.name}</span>
                <span className="text-xs text-neutral-500">{u.error ? 'failed' : u.done ? 'done' : `${Math.round(u.progress)}%`}</span>
              </div>
              {u.error ? <p className="text-xs text-red-600" role="alert">{u.error}</p> : <ProgressBar value={u.progress} label={`Uploading ${u.name}`} />}
            </li>
          ))}
        </ul>
      )}
      <div className="mb-4 max-w-48">
        <FormField label="Type">
          <Select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="all">All</option>
            <option value="video">Video</option>
            <option value="image">Image</option>
            <option value="audio">Audio</option>
          </Select>
        </FormField>
      </div>
      {assets.isPending && (
        <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
          {Array.from({ length: 8 }, (_, i) => <Skeleton key={i} className="h-40 rounded-xl" />)}
        </div>
      )}
      {assets.isError && <ErrorState error={assets.error} onRetry={() => assets.refetch()} />}
      {assets.data && shown.length === 0 && (
        <EmptyState title="No assets yet" icon={<FolderOpen className="size-8" />}>
          Upload clips or images to use them in your videos.
        </EmptyState>
      )}
      {shown.length > 0 && (
        <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4" aria-label="Assets">
          {shown.map((a) => (
            <li key={a.id} className="overflow-hidden rounded-xl border border-neutral-200 bg-white">
              <button type="button" onClick={() => setPreview(a)} className="block w-full focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-accent-500" aria-label={`Preview ${a.filename ?? a.id}`}>
                <div className="flex h-28 items-center justify-center bg-neutral-100">
                  {a.type === 'image' && a.download_url ? <img src={a.download_url} alt="" className="h-full w-full object-cover" /> : <AssetIcon type={a.type} />}
                </div>
              </button>
              <div className="flex items-start gap-2 p-3">
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm font-medium">{a.filename ?? a.id}</p>
                  <p className="text-xs text-neutral-500">
                    {formatBytes(num(a.size_bytes))}
                    {a.duration_seconds != null && ` · ${formatDuration(num(a.duration_seconds))}`} · {timeAgo(a.created_at)}
                  </p>
                  {a.status !== 'ready' && <Badge tone={a.status === 'failed' ? 'danger' : 'warning'} className="mt-1">{a.status}</Badge>}
                </div>
                {canUpload && (
                  <Button variant="ghost" size="icon" aria-label={`Delete ${a.filename ?? a.id}`} onClick={() => setDeleting(a)}>
                    <Trash2 aria-hidden="true" />
                  </Button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {preview && <Preview asset={preview} onClose={() => setPreview(null)} />}
      {deleting && <ConfirmDelete asset={deleting} onClose={() => setDeleting(null)} />}
    </>
  );
}
