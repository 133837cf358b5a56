// Test-only: start a backend by name (or say why this machine lacks it) and compare whole tensors,
// for the suites that check one computation against another on every backend.
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { initWebGPU } from "../../src/engine/webgpu";
import { webgpuTestEnv } from "./webgpu-env";

/** max |a − b| / max |b|: the relative error of a whole tensor (read asynchronously: webgpu cannot read synchronously). */
export async function relErr(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [diff, scale] = tf.tidy(() => [a.sub(b).abs().max(), b.abs().max()]);
  const [d, s] = [(await diff.data())[0], (await scale.data())[0]];
  tf.dispose([diff, scale]);
  return d / Math.max(1e-30, s);
}

/** Starts a backend; returns why not when this machine lacks it (the caller skips), else null. */
export async function useBackend(name: string): Promise<string | null> {
  if (name === "webgpu") {
    const env = await webgpuTestEnv();
    if (env.skip) return env.skip;
    await initWebGPU();
    return null;
  }
  try {
    await initEngine({ backend: name as "cpu" });
    return null;
  } catch (err) {
    return (err as Error).message.split("\n")[0];
  }
}
