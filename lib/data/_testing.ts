/**
 * Test helpers: where the real ARC data is (`TRM_DIS_DATA_DIR`, else the `data fetch` cache) and where
 * the hand-made fixtures are.
 *
 * @module
 */
import { readEnv } from "../env.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { defaultCacheDir } from "./fetch.ts";

/** The repository root. */
export const REPO_ROOT: string = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");

/** `fixtures/data`. */
export const FIXTURES: string = join(REPO_ROOT, "fixtures", "data");

/** The real data directory, or null (with the reason printed once) when it is absent. */
export function realDataDir(): string | null {
  const dir = readEnv("TRM_DIS_DATA_DIR") ?? defaultCacheDir();
  if (existsSync(join(dir, "arc-agi-1", "evaluation"))) return dir;
  if (!warned) {
    console.log(`skipping tests that need the real ARC data: "${dir}" has no arc-agi-1/ (set TRM_DIS_DATA_DIR)`);
    warned = true;
  }
  return null;
}
let warned = false;
