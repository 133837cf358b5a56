// The tensorflow backend's view of the GPU, without one: nvidia-smi's memory query parsed, and asked
// through a stand-in nvidia-smi on PATH.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cudaMemoryMiB, parseGpuMemoryMiB } from "../../src/engine";

test("parseGpuMemoryMiB: one number of MiB per GPU; anything else is an error naming the GPU and the line", () => {
  assert.deepEqual(parseGpuMemoryMiB("81559\n"), [81559]);
  assert.deepEqual(parseGpuMemoryMiB(" 143771 \n143771\n\n"), [143771, 143771]);
  assert.deepEqual(parseGpuMemoryMiB(""), []);
  assert.throws(() => parseGpuMemoryMiB("81559\n[N/A]\n"), /GPU 1's memory\.total is not a number of MiB: '\[N\/A\]'/);
});

test("cudaMemoryMiB asks nvidia-smi for the first GPU, and is null without it", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-smi-"));
  const saved = process.env.PATH;
  try {
    const smi = path.join(dir, "nvidia-smi");
    // answers only the exact query, so a changed query fails here
    fs.writeFileSync(smi, `#!/bin/sh\n[ "$*" = "--query-gpu=memory.total --format=csv,noheader,nounits" ] || exit 2\nprintf '81559\\n40960\\n'\n`, { mode: 0o755 });
    process.env.PATH = `${dir}${path.delimiter}${saved}`;
    assert.equal(cudaMemoryMiB(), 81559);
    fs.writeFileSync(smi, "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n", { mode: 0o755 });
    assert.equal(cudaMemoryMiB(), null, "a failing nvidia-smi");
    process.env.PATH = "/nonexistent";
    assert.equal(cudaMemoryMiB(), null, "no nvidia-smi");
  } finally {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
