// Backend choice as a small pure loop over candidates, so the order, forcing and the skip reasons can
// be tested with fake probes. The real candidates live in backends.ts.

export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
export type BackendRequest = "auto" | BackendName;
export const BACKEND_REQUESTS: readonly BackendRequest[] = ["auto", "tensorflow", "webgpu", "wasm", "cpu"];

export interface ProbeResult {
  ok: boolean;
  /** Why the candidate cannot be used (when ok is false). */
  reason?: string;
  /** A software/fallback device: used only when its backend is forced. */
  fallback?: boolean;
  /** Device description (webgpu adapter info), reported even when skipped. */
  adapter?: object;
}

export interface Candidate {
  /** Key in EngineInfo.skipped, e.g. "tensorflow-gpu". */
  key: string;
  backend: BackendName;
  /** forced: this backend was asked for explicitly, so lesser devices (no CUDA, fallback adapter) are acceptable. */
  probe(forced: boolean): Promise<ProbeResult>;
  /** Makes the backend current; throws if it cannot. */
  start(): Promise<void>;
}

export interface Selection {
  candidate: Candidate;
  /** Why each better candidate was passed over, by key. */
  skipped: Record<string, string>;
  adapter?: object;
}

/** Parses a backend request from an option or VALEMB_BACKEND; `source` names where it came from in the error. */
export function parseBackendRequest(value: string | undefined, source: string): BackendRequest {
  if (value === undefined || value === "") return "auto";
  const v = value.trim().toLowerCase();
  if ((BACKEND_REQUESTS as readonly string[]).includes(v)) return v as BackendRequest;
  throw new Error(`${source}: unknown backend '${value}' (expected one of ${BACKEND_REQUESTS.join(", ")})`);
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/**
 * Walks the candidates in order (only those of the requested backend when forced) and starts the
 * first usable one. Fallback devices are skipped unless forced. Throws when nothing could start,
 * listing every reason.
 */
export async function selectBackend(request: BackendRequest, candidates: Candidate[]): Promise<Selection> {
  const forced = request !== "auto";
  const list = forced ? candidates.filter((c) => c.backend === request) : candidates;
  const skipped: Record<string, string> = {};
  let adapter: object | undefined;
  for (const candidate of list) {
    let probe: ProbeResult;
    try {
      probe = await candidate.probe(forced);
    } catch (e) {
      probe = { ok: false, reason: `probe failed: ${message(e)}` };
    }
    if (probe.adapter) adapter = probe.adapter;
    if (!probe.ok) {
      skipped[candidate.key] = probe.reason ?? "not available";
      continue;
    }
    if (probe.fallback && !forced) {
      skipped[candidate.key] = `only a fallback (software) device${probe.reason ? ` (${probe.reason})` : ""}; ` +
        `used only when forced (--backend ${candidate.backend} or VALEMB_BACKEND=${candidate.backend})`;
      continue;
    }
    try {
      await candidate.start();
    } catch (e) {
      skipped[candidate.key] = `failed to start: ${message(e)}`;
      continue;
    }
    return { candidate, skipped, adapter };
  }
  const why = Object.entries(skipped).map(([k, r]) => `${k}: ${r}`).join("; ");
  throw new Error(forced
    ? `backend '${request}' was forced but cannot be used (${why || "no candidate"})`
    : `no TensorFlow.js backend could start (${why})`);
}
