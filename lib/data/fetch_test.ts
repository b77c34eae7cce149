import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { zipSync } from "fflate";
import { buildManifest, type FetchEvent, fetchSets, MANIFEST, verifySet } from "./fetch.ts";
import { realDataDir } from "./_testing.ts";
import { isFetchCache, verifyCachedFiles } from "./cache.ts";

const data = realDataDir();

/** A zip in GitHub's archive layout (`<repo>-<commit>/...`) made from the local copy of a set. */
function upstreamZip(set: string): Uint8Array<ArrayBuffer> {
  const spec = MANIFEST.sets[set];
  const top = `${spec.repo.split("/")[1]}-${spec.commit}/`;
  const entries: Record<string, Uint8Array> = {};
  for (const [from, to] of Object.entries(spec.paths)) {
    const walk = (dir: string) => {
      for (const e of Deno.readDirSync(dir)) {
        const p = join(dir, e.name);
        if (e.isDirectory) walk(p);
        else entries[top + from + relative(join(data!, to), p)] = Deno.readFileSync(p);
      }
    };
    walk(join(data!, to));
  }
  entries[top + "README.md"] = new TextEncoder().encode("not extracted\n");
  return zipSync(entries, { level: 0 }) as Uint8Array<ArrayBuffer>;
}

Deno.test({
  name: "the committed manifest matches the local data (byte-identical to upstream)",
  ignore: data === null,
  fn: async () => {
    assert.deepEqual(await buildManifest(data!), MANIFEST);
    const counts = Object.fromEntries(Object.entries(MANIFEST.sets).map(([k, v]) => [k, Object.keys(v.files).length]));
    assert.deepEqual(counts, { "arc-agi-1": 800, "arc-agi-2": 1120, "concept-arc": 176, "trm-kaggle-combined": 10 });
  },
});

Deno.test({
  name: "fetch downloads from a loopback server, detects a truncated and a corrupted response, and retries",
  ignore: data === null,
  fn: async () => {
    const zips: Record<string, Uint8Array<ArrayBuffer>> = {
      "/fchollet/ARC-AGI/zip/399030444e0ab0cc8b4e199870fb20b863846f34": upstreamZip("arc-agi-1"),
      "/victorvikram/ConceptARC/zip/b22ef526b4656679816b7811e78f55cc24d736d7": upstreamZip("concept-arc"),
    };
    const hits: Record<string, number> = {};
    let mode: "flaky" | "good" | "down" = "flaky";
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      const zip = zips[path];
      hits[path] = (hits[path] ?? 0) + 1;
      if (zip === undefined || mode === "down") return new Response("no", { status: mode === "down" ? 503 : 404 });
      if (mode === "flaky" && hits[path] === 1) {
        if (path.includes("ARC-AGI")) return new Response(zip.slice(0, zip.length >> 1)); // cut short
        const bad = zip.slice();
        const at = bad.indexOf(0x5b, 200) + 3; // a cell digit inside some grid "[[...": corrupt content
        bad[at] = bad[at] === 0x31 ? 0x32 : 0x31;
        return new Response(bad);
      }
      return new Response(zip);
    });
    const cache = await Deno.makeTempDir();
    const baseUrl = `http://127.0.0.1:${server.addr.port}`;
    try {
      const events: FetchEvent[] = [];
      const sets = ["arc-agi-1", "concept-arc"];
      const waits: number[] = [];
      const sleep = (ms: number) => (waits.push(ms), Promise.resolve());
      const results = await fetchSets({ cacheDir: cache, sets, baseUrl, sleep, onEvent: (e) => events.push(e) });
      assert.deepEqual(results.map((r) => [r.set, r.downloaded, r.attempts]), [["arc-agi-1", true, 2], [
        "concept-arc",
        true,
        2,
      ]]);
      const retries = events.filter((e) => e.kind === "retry").map((e) => (e as { reason: string }).reason);
      assert.equal(retries.length, 2);
      assert.deepEqual(waits, [2000, 2000], "each set's first retry waits the default 2 s");
      assert.match(retries[0], /does not unzip|cut short/);
      assert.match(retries[1], /does not match its SHA-256|does not unzip/);
      for (const s of sets) assert.deepEqual(await verifySet(cache, s), { missing: [], corrupt: [], extra: [] });
      assert.deepEqual(
        Deno.readFileSync(join(cache, "concept-arc", "Copy", "Copy1.json")),
        Deno.readFileSync(join(data!, "concept-arc", "Copy", "Copy1.json")),
      );
      assert.ok(!Deno.readDirSync(cache).some((e) => e.name.startsWith(".")), "no temporary folders left");

      // Intact sets are not downloaded again.
      mode = "good";
      const before = { ...hits };
      const again = await fetchSets({ cacheDir: cache, sets, baseUrl });
      assert.deepEqual(again.map((r) => r.downloaded), [false, false]);
      assert.deepEqual(hits, before);

      // A file damaged in the cache is detected and the set fetched again.
      const victim = join(cache, "arc-agi-1", "evaluation", "00576224.json");
      Deno.writeTextFileSync(victim, "{}");
      const repaired = await fetchSets({ cacheDir: cache, sets: ["arc-agi-1"], baseUrl });
      assert.deepEqual(repaired.map((r) => r.downloaded), [true]);
      assert.deepEqual(await verifySet(cache, "arc-agi-1"), { missing: [], corrupt: [], extra: [] });

      // So is a file that the manifest does not list; the rebuilt folders no longer hold it. The fetch
      // left an index, so reading the cache checks it without hashing it again.
      Deno.writeTextFileSync(join(cache, "arc-agi-1", "training", "stray.json"), "{}");
      assert.deepEqual((await verifySet(cache, "arc-agi-1")).extra, ["arc-agi-1/training/stray.json"]);
      const rebuilt = await fetchSets({ cacheDir: cache, sets: ["arc-agi-1"], baseUrl });
      assert.deepEqual(rebuilt.map((r) => r.downloaded), [true]);
      assert.ok(await isFetchCache(cache));
      await verifyCachedFiles(cache, "arc-agi-1/training/");

      // A server that keeps failing ends in an error that names the set and the URL, and writes nothing.
      mode = "down";
      await Deno.remove(join(cache, "concept-arc"), { recursive: true });
      await assert.rejects(
        fetchSets({ cacheDir: cache, sets: ["concept-arc"], baseUrl, attempts: 2, retryDelayMs: 0 }),
        /Cannot fetch "concept-arc" from http:\/\/127\.0\.0\.1:\d+\/victorvikram\/ConceptARC\/zip\/b22ef5.*HTTP 503 \(after 2 attempts\)/,
      );
      assert.ok(!Deno.readDirSync(cache).some((e) => e.name === "concept-arc" || e.name.startsWith(".")));
    } finally {
      await server.shutdown();
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test("fetch backs off between attempts and keeps the network error's cause in its message", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const waits: number[] = [];
    const events: FetchEvent[] = [];
    let calls = 0;
    // What Deno's fetch throws when DNS fails: "fetch failed", with the reason only in its cause.
    const dnsDown: typeof fetch = () => {
      calls += 1;
      const reason = new Error("client error (Connect): dns error: failed to lookup address information");
      return Promise.reject(new TypeError("fetch failed", { cause: reason }));
    };
    const err = await assert.rejects(
      fetchSets({
        cacheDir: cache,
        sets: ["concept-arc"],
        baseUrl: "https://example.invalid",
        fetch: dnsDown,
        sleep: (ms) => (waits.push(ms), Promise.resolve()),
        onEvent: (e) => events.push(e),
      }),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /Cannot fetch "concept-arc" from https:\/\/example\.invalid\/victorvikram/);
        assert.match(e.message, /request failed \(fetch failed: client error \(Connect\): dns error/);
        assert.match(e.message, /after 4 attempts\): check the network/);
        assert.match(String((e.cause as Error).cause), /dns error/);
        return true;
      },
    );
    void err;
    assert.equal(calls, 4);
    assert.deepEqual(waits, [2000, 4000, 8000]);
    assert.deepEqual(events.filter((e) => e.kind === "retry").map((e) => (e as { delayMs: number }).delayMs), [
      2000,
      4000,
      8000,
    ]);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
