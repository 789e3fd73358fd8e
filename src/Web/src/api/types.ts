// Names for the generated OpenAPI types (src/api/schema.d.ts, made by scripts/gen-api.mjs). Never write a DTO by hand:
// take it from here so that an API change breaks the build.
import type { components, paths } from './schema';

export type { components, paths };
export type Schemas = components['schemas'];

export type Job = Schemas['JobDto'];
export type JobNode = Schemas['NodeDto'];
export type JobLog = Schemas['JobLogDto'];
export type Template = Schemas['TemplateDto'];
export type Model = Schemas['ModelDto'];
export type VoiceProvider = Schemas['VoiceProviderDto'];
export type Quota = Schemas['QuotaDto'];
export type QuotaLine = Schemas['QuotaLineDto'];
export type Asset = Schemas['AssetDto'];
export type Me = Schemas['MeResponse'];
export type User = Schemas['UserDto'];
export type Org = Schemas['OrgDto'];
export type Membership = Schemas['MembershipDto'];
export type Session = Schemas['SessionResponse'];
export type Problem = Schemas['Problem'];
export type CreateJobRequest = Schemas['CreateJobRequest'];
export type CostEstimate = Schemas['CostEstimate'];
export type NodeType = Schemas['NodeTypeDto'];

/**
 * A request body as callers write it: the API marks nullable properties required (the .NET generator does), but
 * leaving them out means null. Body<T> makes every property that accepts null optional.
 */
export type Body<T> = { [K in keyof T as null extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as null extends T[K] ? K : never]?: T[K];
};

/** The API writes numbers as `number | string` (System.Text.Json's AllowReadingFromString); read them with num(). */
export function num(value: number | string | null | undefined): number {
  if (value === null || value === undefined || value === '') return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

export function numOrNull(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

// Publishing (issue 28): connected accounts, publications, enrichment, analytics.
export type PlatformInfo = Schemas['PlatformDto'];
export type Integration = Schemas['IntegrationDto'];
export type CreatorOptions = Schemas['CreatorOptionsDto'];
export type Publication = Schemas['PublicationDto'];
export type PublicationTarget = Schemas['PublicationTargetDto'];
export type PublishBody = Schemas['PublishRequestBody'];
export type PublishTarget = Schemas['PublishTargetRequest'];
export type Enrichment = Schemas['EnrichmentDto'];
export type EnrichmentItem = Schemas['EnrichmentItemDto'];
export type Counters = Schemas['Counters'];
export type AnalyticsOverview = Schemas['AnalyticsOverview'];
export type AnalyticsVideo = Schemas['AnalyticsVideo'];
export type AnalyticsPlatform = Schemas['AnalyticsPlatform'];
export type ShareLink = Schemas['ShareLinkDto'];
