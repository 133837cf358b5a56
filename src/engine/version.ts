// The fast wasm path patches internals of tfjs 4.22.0 (worker bootstrap, kernel signatures, heap
// layout), so any other version must fail loudly at start instead of computing wrong numbers.
import * as tf from "@tensorflow/tfjs";

export const PINNED_TFJS = "4.22.0";

/** Throws a clear error unless tfjs-core, the cpu backend and (if given) the wasm backend are 4.22.0. */
export function assertTfjsVersion(wasmVersion?: string): void {
  const found: Record<string, string | undefined> = {
    "@tensorflow/tfjs-core": tf.version_core,
    "@tensorflow/tfjs-backend-cpu": tf.version["tfjs-backend-cpu"],
  };
  if (wasmVersion !== undefined) found["@tensorflow/tfjs-backend-wasm"] = wasmVersion;
  const wrong = Object.entries(found).filter(([, v]) => v !== PINNED_TFJS);
  if (wrong.length > 0) {
    const list = wrong.map(([pkg, v]) => `${pkg}@${v ?? "missing"}`).join(", ");
    throw new Error(
      `valemb engine: needs TensorFlow.js ${PINNED_TFJS} exactly (its wasm kernels and thread shim rely on ` +
        `that version's internals), found ${list}. Pin every @tensorflow/* package to ${PINNED_TFJS} and reinstall.`,
    );
  }
}
