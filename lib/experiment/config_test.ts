import assert from "node:assert/strict";
import { ConfigError, InputError } from "../errors.ts";
import { z } from "../config/mod.ts";
import {
  experimentBase,
  loadProfile,
  mergeConfigs,
  parseProfile,
  profileFile,
  PROFILES,
  rowPlan,
  selectRows,
} from "./config.ts";
import type { ExperimentSpec } from "./spec.ts";
import { compareSentence, paperGap, pct, points, profileCaveat, ratio } from "./narrative.ts";

Deno.test("mergeConfigs: maps merge key by key, later parts win, lists replace, inputs stay untouched", () => {
  const a = { train: { lr: 1, steps: 2 }, tags: [1, 2] };
  const b = { train: { lr: 3 }, tags: [9] };
  assert.deepEqual(mergeConfigs(a, b), { train: { lr: 3, steps: 2 }, tags: [9] });
  assert.deepEqual(a, { train: { lr: 1, steps: 2 }, tags: [1, 2] });
  assert.deepEqual(mergeConfigs(), {});
});

Deno.test("rowPlan resolves a row against its preset and names the profile and row in errors", () => {
  const row = rowPlan("dis", "DIS", [
    { seed: 3, data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" } },
    { train: { steps: 10 } },
    { model: { hidden: 32 } },
  ], "x.smoke.yaml");
  assert.equal(row.loaded.config.seed, 3);
  assert.equal(row.loaded.config.train.steps, 10);
  assert.equal(row.loaded.config.model.hidden, 32);
  assert.equal(row.loaded.config.model.n_sup, 6);
  assert.throws(
    () =>
      rowPlan(
        "dis",
        "DIS",
        [{ data: { kind: "nqueens" }, model: { preset: "nqueens-dis-paper" }, train: { lr: -1 } }],
        "x.yaml",
      ),
    (e: unknown) => e instanceof ConfigError && /x\.yaml \(row dis\)/.test(e.message) && /train\.lr/.test(e.message),
  );
  assert.throws(() => rowPlan("Bad Id", "x", [], "x.yaml"), RangeError);
});

Deno.test("selectRows matches ids or id parts, keeps the experiment's order, and lists the rows for an unknown one", () => {
  const ids = ["arc1.trm", "arc1.dis", "arc2.trm", "arc2.dis"];
  assert.deepEqual(selectRows(ids, null), ids);
  assert.deepEqual(selectRows(ids, ["dis", "arc1"]), ["arc1.trm", "arc1.dis", "arc2.dis"]);
  assert.deepEqual(selectRows(ids, ["arc2.trm"]), ["arc2.trm"]);
  assert.throws(
    () => selectRows(ids, ["dis", "medium"]),
    (e: unknown) => e instanceof InputError && e.message.includes('"medium" matches no row (rows: arc1.trm, arc1.dis'),
  );
});

Deno.test("profiles: names are checked, files sit beside the experiment", () => {
  assert.equal(parseProfile("paper"), "paper");
  assert.throws(() => parseProfile("huge"), InputError);
  assert.equal(profileFile("experiments", "table1", "small"), "experiments/table1.small.yaml");
});

Deno.test("narrative helpers: fixed formats and the ahead / tie / missing cases", () => {
  assert.equal(pct(0.6912), "69.1%");
  assert.equal(pct(-0.00001), "0.0%");
  assert.equal(pct(null), "n/a");
  assert.equal(points(0.3, 0.25), "+5.0 points");
  assert.equal(points(0.25, 0.3), "−5.0 points");
  assert.equal(ratio(336, 18), "18.7×");
  assert.equal(ratio(1, 0), "n/a");
  assert.equal(
    compareSentence({ name: "TRM", value: 0.25 }, { name: "DIS", value: 0.5 }, "exact accuracy"),
    "DIS reaches 50.0% exact accuracy against 25.0% for TRM (+25.0 points).",
  );
  assert.equal(
    compareSentence({ name: "A", value: 0.1 }, { name: "B", value: 0.1 }, "pass@2"),
    "A and B reach the same pass@2, 10.0%.",
  );
  assert.equal(
    compareSentence({ name: "A", value: null }, { name: "B", value: 0 }, "pass@2"),
    "No pass@2 to compare for A.",
  );
  assert.equal(paperGap(0.57, 0.69), "12.0 points below the paper's 69.0%");
  assert.equal(paperGap(0.8, 0.69), "11.0 points above the paper's 69.0%");
  for (const p of ["smoke", "small", "paper"] as const) assert.ok(profileCaveat(p).length > 40);
  assert.match(profileCaveat("small"), /none of these numbers is the paper's/);
});

Deno.test("every experiment config names its version and the paper's table, figure or section", async () => {
  const schema = z.strictObject({ ...experimentBase });
  assert.throws(() => schema.parse({}), /version/);
  assert.equal(schema.parse({ version: 2, paper: "Table 1" }).version, 2);
  for (const name of ["nqueens", "table1", "figure3", "dis-variants"]) {
    const { spec } = await import(`../../experiments/${name}.ts`) as { spec: ExperimentSpec };
    for (const profile of PROFILES) {
      const { config } = await loadProfile(spec.configDir, name, profile, spec.schema);
      assert.ok(Number.isInteger(config.version) && config.version >= 1, `${name} ${profile}: version`);
      assert.match(config.paper, /Table|Figure|section/, `${name} ${profile}: paper`);
    }
  }
});
