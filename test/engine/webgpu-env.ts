// Test-only: find a WebGPU adapter, using the lavapipe folder of scripts/ci-lavapipe.sh when the
// environment names no Vulkan driver, and decide between skipping (laptops) and failing (CI).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { probeWebGPU, type WebGPUProbe } from "../../src/engine/webgpu";

const REPO = path.resolve(__dirname, "../..");
const RTLD_NODELETE = 0x1000; // glibc; Node's os.constants.dlopen lacks it

/**
 * glibc reads LD_LIBRARY_PATH only at process start, so libraries of the lavapipe folder are
 * loaded here by absolute path (kept resident): later dlopen("libvulkan.so.1") then finds them.
 */
function preloadLibraries(dir: string): void {
  const { RTLD_NOW, RTLD_GLOBAL } = os.constants.dlopen as Record<string, number>;
  let pending = fs.readdirSync(dir).filter((f) => /\.so\.\d+$/.test(f));
  for (let pass = 0; pass < 4 && pending.length; pass++) { // a library whose deps are not in yet loads next pass
    pending = pending.filter((f) => {
      try { process.dlopen({ exports: {} }, path.join(dir, f), RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE); }
      catch (e) { return !/did not self-register/.test((e as Error).message); } // loaded, just not an addon
      return false;
    });
  }
}

function useLavapipeFolder(): string | undefined {
  if (process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES) return undefined;
  const dir = process.env.LAVAPIPE_DIR ?? path.join(REPO, ".lavapipe");
  const icd = path.join(dir, "lvp_icd.json");
  if (!fs.existsSync(path.join(dir, ".complete")) || !fs.existsSync(icd)) return undefined;
  const libdir = JSON.parse(fs.readFileSync(icd, "utf8")).ICD.library_path.replace(/\/[^/]+$/, "");
  preloadLibraries(libdir);
  process.env.VK_DRIVER_FILES = icd; // read by the Vulkan loader when Dawn starts, and by child processes
  process.env.LD_LIBRARY_PATH = [libdir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  return dir;
}

export interface GpuTestEnv {
  probe: WebGPUProbe;
  /** `false` to run, else the skip message (never in CI, where a missing adapter fails instead). */
  skip: false | string;
}

let env: Promise<GpuTestEnv> | undefined;

export function webgpuTestEnv(): Promise<GpuTestEnv> {
  env ??= (async () => {
    const folder = useLavapipeFolder();
    const probe = await probeWebGPU();
    if (probe.ok) return { probe, skip: false };
    const why = `no WebGPU adapter: ${probe.reason}${folder ? ` (with ${folder})` : ""}`;
    if (process.env.CI) throw new Error(`CI must run the WebGPU tests, but there is ${why}. Run scripts/ci-lavapipe.sh and export what it prints.`);
    return { probe, skip: `${why}; run scripts/ci-lavapipe.sh to test on a CPU Vulkan driver` };
  })();
  return env;
}
