// The one call of fs-ext (a native flock(2) binding) that src/data/lock.ts uses.
declare module "fs-ext" {
  export function flockSync(fd: number, flags: "sh" | "ex" | "shnb" | "exnb" | "un"): void;
}
