// The Create page's form, turned into the body of POST /v1/jobs (and of POST /v1/jobs/estimate, which takes the same).
import type { Body, CreateJobRequest, Schemas } from '@/api/types';

// The OpenAPI document types script/tts/output as free-form objects (the node params): `{}` in TypeScript.
type Config = Schemas['DirectJobConfig'];
const free = <K extends keyof Config>(o: Record<string, unknown>) => o as unknown as NonNullable<Config[K]>;

export type SourceType = 'stock' | 'upload' | 'kai_image' | 'kai_video';

export type CreateValues = {
  templateId: string;
  prompt: string;
  genre: string;
  lang: string;
  durationSeconds: number;
  sourceType: SourceType;
  stockQuery: string;
  stockCount: number;
  assetIds: string[];
  model: string;
  mediaPrompt: string;
  ttsProvider: string;
  voice: string;
  speed: number;
  subtitleStyle: string; // 'none' turns subtitles off
  musicPrompt: string; // empty: no music
  profile: string;
  quality: string;
  maxCostUsd: string;
};

/** "9x16_1080p" → "9:16". */
export function aspectOfProfile(profile: string): string {
  const m = /^(\d+)x(\d+)_/.exec(profile);
  return m ? `${m[1]}:${m[2]}` : '9:16';
}

/** A template's aspect ("9:16") and resolution ("1080x1920") → an output profile id ("9x16_1080p") when one exists. */
export function profileOfTemplate(aspect: string, resolution: string, profiles: string[]): string | undefined {
  const a = aspect.replace(':', 'x');
  const dims = resolution.split('x').map(Number).filter(Number.isFinite);
  const short = dims.length === 2 ? Math.min(dims[0], dims[1]) : 1080;
  return profiles.find((p) => p === `${a}_${short}p`) ?? profiles.find((p) => p.startsWith(`${a}_`));
}

export function buildJobRequest(v: CreateValues): Body<CreateJobRequest> {
  const prompt = v.prompt.trim();
  const source: Record<string, unknown> = { type: v.sourceType };
  switch (v.sourceType) {
    case 'stock':
      source.query = (v.stockQuery.trim() || prompt).slice(0, 200);
      source.count = v.stockCount;
      source.orientation = orientationOf(v.profile);
      break;
    case 'upload':
      source.asset_ids = v.assetIds;
      break;
    case 'kai_image':
    case 'kai_video':
      source.model = v.model;
      source.prompt = v.mediaPrompt.trim() || prompt;
      source.aspect_ratio = aspectOfProfile(v.profile);
      break;
  }
  const tts: Record<string, unknown> = { provider: v.ttsProvider, speed: v.speed };
  if (v.voice) tts.voice = v.voice;
  const body: Body<CreateJobRequest> = {
    config: {
      sources: [source] as unknown as NonNullable<Config['sources']>,
      script: free<'script'>({ prompt, genre: v.genre, lang: v.lang || 'en', duration_seconds: v.durationSeconds }),
      tts: free<'tts'>(tts),
      subtitles: v.subtitleStyle === 'none' ? false : { style: v.subtitleStyle },
      output: free<'output'>({ profile: v.profile, quality: v.quality }),
    },
  };
  const music = v.musicPrompt.trim();
  if (music) body.config!.music = free<'music'>({ prompt: music, volume: 0.25 });
  if (v.templateId) body.template_id = v.templateId;
  const max = Number(v.maxCostUsd);
  if (v.maxCostUsd.trim() !== '' && Number.isFinite(max)) body.budget = { max_cost_usd: max, max_tokens: null };
  return body;
}

function orientationOf(profile: string): string {
  const [w, h] = aspectOfProfile(profile).split(':').map(Number);
  return w > h ? 'landscape' : w < h ? 'portrait' : 'square';
}

/** API error fields (config.tts.speed, config.sources[0].query…) → the form field that shows them. */
export const CREATE_FIELD_MAP: Record<string, keyof CreateValues> = {
  template_id: 'templateId',
  'config.script': 'prompt',
  'config.script.prompt': 'prompt',
  'config.script.genre': 'genre',
  'config.script.lang': 'lang',
  'config.script.duration_seconds': 'durationSeconds',
  'config.sources': 'sourceType',
  'config.sources[0]': 'sourceType',
  'config.sources[0].type': 'sourceType',
  'config.sources[0].query': 'stockQuery',
  'config.sources[0].count': 'stockCount',
  'config.sources[0].asset_ids': 'assetIds',
  'config.sources[0].model': 'model',
  'config.sources[0].prompt': 'mediaPrompt',
  'config.tts': 'voice',
  'config.tts.provider': 'ttsProvider',
  'config.tts.voice': 'voice',
  'config.tts.speed': 'speed',
  'config.subtitles': 'subtitleStyle',
  'config.subtitles.style': 'subtitleStyle',
  'config.music': 'musicPrompt',
  'config.music.prompt': 'musicPrompt',
  'config.output.profile': 'profile',
  'config.output.quality': 'quality',
  budget: 'maxCostUsd',
  'budget.max_cost_usd': 'maxCostUsd',
};
