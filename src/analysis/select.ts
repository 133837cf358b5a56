// `--runs` selection: a comma-separated list of names, each may use `*` wildcards ("13,15,16", "25 *", "22-*").
import type { Run } from "./types";

/** The patterns of a `--runs` value; spaces around commas are dropped, spaces inside names kept. */
export function parseRunPatterns(spec: string): string[] {
  return spec.split(",").map((p) => p.trim()).filter(Boolean);
}

function patternRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

export function matchesRunPattern(name: string, pattern: string): boolean {
  return patternRegExp(pattern).test(name);
}

/** The runs whose names match any pattern, in load order; `unmatched` lists patterns that matched nothing. */
export function selectRuns(runs: Run[], spec: string | undefined): { runs: Run[]; unmatched: string[] } {
  if (spec === undefined) return { runs, unmatched: [] };
  const patterns = parseRunPatterns(spec).map((p) => ({ p, re: patternRegExp(p), hits: 0 }));
  const selected = runs.filter((r) => {
    let any = false;
    for (const pat of patterns) {
      if (pat.re.test(r.name)) {
        pat.hits++;
        any = true;
      }
    }
    return any;
  });
  return { runs: selected, unmatched: patterns.filter((x) => x.hits === 0).map((x) => x.p) };
}
