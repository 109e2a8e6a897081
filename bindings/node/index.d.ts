// Types of the imgp package (index.js).
import { EventEmitter } from 'node:events';

export interface PipelineOptions {
  /** Directory of the imgp-* tools; else they are looked up in PATH. */
  bin?: string;
  /** imgp-enrich --profile: the world profile. */
  profile?: string;
  /** --store of imgp-enrich, imgp-gen and imgp-store: the store directory. */
  store?: string;
  /** imgp-gen --api. */
  api?: 'openrouter' | 'openai' | 'local' | string;
  /** imgp-gen --base-url. */
  baseUrl?: string;
  /** imgp-gen --model. */
  model?: string;
  /** imgp-gen --api-key-file (else IMGP_API_KEY in env). */
  apiKeyFile?: string;
  /** imgp-enrich --reference previous. */
  referencePrevious?: boolean;
  /** imgp-gen --on-failure. */
  onFailure?: 'error' | 'previous' | 'placeholder';
  /** imgp-gen --cache: a render sent again after a crash is not paid twice. */
  cache?: boolean;
  /** imgp-gen --jobs: requests in flight. */
  jobs?: number;
  /** imgp-url --base. */
  base?: string;
  /** imgp-url --sign. */
  sign?: 'hmac' | 'nginx';
  /** imgp-url --key-file. */
  keyFile?: string;
  /** imgp-url --expires (e.g. "1h"). */
  expires?: string;
  /** More arguments for a stage's command line. */
  args?: { enrich?: string[]; gen?: string[]; store?: string[]; url?: string[] };
  /** Added to process.env for the stages. */
  env?: Record<string, string>;
  /** Renders inside the pipeline at once; further calls wait (default 64). */
  maxInFlight?: number;
  /** Times one render is sent again after stages crashed (default 2). */
  maxResends?: number;
  /** Milliseconds a faulty pipeline may take to finish before kill -9 (default 60000). */
  drainTimeout?: number;
}

/** An input record: the judge's members (session, turn, image_prompt, ...). */
export interface ImgpRecord {
  session?: string;
  turn?: number;
  image_prompt?: string;
  [member: string]: unknown;
}

/** The record that came out of imgp-url. */
export interface ImgpOutput extends ImgpRecord {
  url: string;
  asset: { sha256: string; path: string; bytes: number; mime: string; width?: number; height?: number };
  image: { mime: string; model?: string; fallback?: string | null; cached?: boolean; [member: string]: unknown };
}

/** An error record (or a stage that failed it), as an exception. */
export class ImgpError extends Error {
  /** The error code: invalid_field, http_status, stage_crashed, bad_output, setup, ... */
  code: string;
  /** The stage: enrich, gen, store or url. */
  stage: string;
  /** Whether sending the same record again can help. */
  retryable: boolean;
  /** The output error record, or the input record when none came out. */
  record: unknown;
}

export class Pipeline extends EventEmitter {
  constructor(options?: PipelineOptions);
  readonly options: Required<PipelineOptions>;
  /** How many times the stages were started again. */
  readonly restarts: number;
  /** Renders written to the pipeline and not answered yet. */
  readonly inFlight: number;
  /** Renders waiting for room in the pipeline. */
  readonly queued: number;
  /** The output record; rejects with ImgpError for an error record. */
  render(record: ImgpRecord | string): Promise<ImgpOutput>;
  /** A JSON line in, the output line out byte for byte. */
  renderLine(line: string): Promise<string>;
  /** Process ids of the running stages. */
  pids(): { enrich?: number; gen?: number; store?: number; url?: number };
  /** Finish every render asked for, then end the stages. */
  close(): Promise<void>;
  on(event: 'restart', listener: (info: { stage: string; reason: string; resent: number }) => void): this;
  on(event: 'stderr', listener: (stage: string, text: string) => void): this;
}

/** The member the package adds to each line and takes off again. */
export const ID_MEMBER: string;
