import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyColors,
  augmentName,
  decodeGrid,
  dihedral,
  DIHEDRAL_INVERSE,
  encodeGrid,
  type Grid,
  inverseDihedral,
  invertColors,
  parseAugmentName,
} from "./augment.ts";

const grid = (h: number, w: number, cells: number[]): Grid => ({ h, w, cells: Uint8Array.from(cells) });

Deno.test("dihedral matches numpy on a 2x3 grid for every TRM transform id", () => {
  // From /usr/bin/python3: np.arange(6).reshape(2,3) under rot90 k=1..3, fliplr, flipud, .T, fliplr(rot90).
  const expected: [number, number, number[]][] = [
    [2, 3, [0, 1, 2, 3, 4, 5]],
    [3, 2, [2, 5, 1, 4, 0, 3]],
    [2, 3, [5, 4, 3, 2, 1, 0]],
    [3, 2, [3, 0, 4, 1, 5, 2]],
    [2, 3, [2, 1, 0, 5, 4, 3]],
    [2, 3, [3, 4, 5, 0, 1, 2]],
    [3, 2, [0, 3, 1, 4, 2, 5]],
    [3, 2, [5, 2, 4, 1, 3, 0]],
  ];
  const g = grid(2, 3, [0, 1, 2, 3, 4, 5]);
  for (let t = 0; t < 8; t++) {
    const out = dihedral(g, t);
    assert.deepEqual([out.h, out.w, [...out.cells]], expected[t], `transform ${t}`);
  }
  assert.deepEqual(DIHEDRAL_INVERSE, [0, 3, 2, 1, 4, 5, 6, 7]);
  assert.throws(() => dihedral(g, 8), RangeError);
});

const arbGrid = fc.record({ h: fc.integer({ min: 1, max: 30 }), w: fc.integer({ min: 1, max: 30 }) }).chain((
  { h, w },
) => fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 9 }).map((cells) => ({ h, w, cells })));
const arbPerm19 = fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 7, 8, 9], { minLength: 9, maxLength: 9 }).map((
  p,
) => [0, ...p]);

Deno.test("inverse(augment(grid)) == grid for every transform and random colour permutations", () => {
  fc.assert(
    fc.property(arbGrid, fc.integer({ min: 0, max: 7 }), arbPerm19, (g, t, colors) => {
      // TRM's order: colours first, then the transform; the inverse undoes the transform, then the colours.
      const aug = dihedral(applyColors(g, colors), t);
      const back = applyColors(inverseDihedral(aug, t), invertColors(colors));
      assert.deepEqual(back, g);
      // The puzzle name alone must carry what evaluation needs to invert.
      const parsed = parseAugmentName(augmentName("abc", t, colors));
      const back2 = applyColors(inverseDihedral(aug, parsed.dihedral), invertColors(parsed.colors));
      assert.deepEqual(back2, g);
    }),
    { numRuns: 300 },
  );
});

Deno.test("the dihedral transforms compose like the group D4 (inverse table is right)", () => {
  const g = grid(2, 3, [0, 1, 2, 3, 4, 5]);
  for (let t = 0; t < 8; t++) assert.deepEqual(dihedral(dihedral(g, t), DIHEDRAL_INVERSE[t]), g, `t=${t}`);
});

Deno.test("augmentName and parseAugmentName follow TRM's format", () => {
  const colors = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9];
  assert.equal(augmentName("00576224", 3, colors), "00576224|||t3|||0213456789");
  assert.equal(augmentName("00576224", 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), "00576224");
  assert.equal(augmentName("x", 0, colors), "x|||t0|||0213456789");
  assert.deepEqual(parseAugmentName("00576224|||t3|||0213456789"), { task: "00576224", dihedral: 3, colors });
  assert.deepEqual(parseAugmentName("Copy1"), { task: "Copy1", dihedral: 0, colors: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  assert.throws(() => parseAugmentName("a|||t9|||0123456789"), SyntaxError);
  assert.throws(() => parseAugmentName("a|||t1|||0113456789"), SyntaxError);
  assert.throws(() => augmentName("a", 1, [0, 1, 1, 3, 4, 5, 6, 7, 8, 9]), RangeError);
  assert.deepEqual(invertColors([0, 2, 3, 1, 4, 5, 6, 7, 8, 9]), [0, 3, 1, 2, 4, 5, 6, 7, 8, 9]);
});

Deno.test("encodeGrid writes TRM's EOS frame and decodeGrid crops it back", () => {
  const g = grid(2, 3, [0, 1, 2, 3, 4, 9]);
  const t = encodeGrid(g, { rowOffset: 1, colOffset: 2 });
  const at = (r: number, c: number) => t[r * 30 + c];
  assert.deepEqual([at(1, 2), at(1, 3), at(1, 4), at(2, 4)], [2, 3, 4, 11]);
  // EOS row below the grid over its columns, EOS column right of it over its rows, corner stays PAD.
  assert.deepEqual([at(3, 2), at(3, 3), at(3, 4), at(1, 5), at(2, 5), at(3, 5)], [1, 1, 1, 1, 1, 0]);
  assert.equal(t.reduce((s, v) => s + (v === 1 ? 1 : 0), 0), 5);
  assert.equal(t.reduce((s, v) => s + (v === 0 ? 1 : 0), 0), 900 - 6 - 5);
  // A full canvas has no room for the frame.
  const full = encodeGrid({ h: 30, w: 30, cells: new Uint8Array(900).fill(7) });
  assert.ok(full.every((v) => v === 9));
  assert.throws(() => encodeGrid(g, { rowOffset: 29 }), RangeError);
  fc.assert(
    fc.property(arbGrid, (g) => {
      assert.deepEqual(decodeGrid(encodeGrid(g)), g);
    }),
    { numRuns: 200 },
  );
  assert.equal(decodeGrid(new Uint8Array(900)), null);
});

Deno.test("decodeGrid takes the largest top-left colour rectangle like TRM's _crop", () => {
  // Row 0 has 3 colours, rows 1-2 have 2: 3x2 (area 6) beats 1x3 (area 3).
  const t = new Uint8Array(900);
  t.set([2, 3, 4, 1], 0);
  t.set([5, 6, 1], 30);
  t.set([7, 8, 1], 60);
  const g = decodeGrid(t);
  assert.deepEqual(g, grid(3, 2, [0, 1, 3, 4, 5, 6]));
});

const arbOnCanvas = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({ n: fc.constant(n), h: fc.integer({ min: 1, max: n }), w: fc.integer({ min: 1, max: n }) })
).chain(({ n, h, w }) =>
  fc.record({
    n: fc.constant(n),
    g: fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 9 }).map((cells) => ({ h, w, cells })),
    r: fc.integer({ min: 0, max: n - h }),
    c: fc.integer({ min: 0, max: n - w }),
  })
);

Deno.test("on a G x G canvas, encodeGrid writes the EOS frame where it fits and decodeGrid crops it back", () => {
  const g = grid(2, 3, [0, 1, 2, 3, 4, 9]);
  const t = encodeGrid(g, { rowOffset: 1, colOffset: 2, canvas: 6 });
  assert.equal(t.length, 36);
  const at = (r: number, c: number) => t[r * 6 + c];
  assert.deepEqual([at(1, 2), at(1, 3), at(1, 4), at(2, 4)], [2, 3, 4, 11]);
  assert.deepEqual([at(3, 2), at(3, 3), at(3, 4), at(1, 5), at(2, 5), at(3, 5)], [1, 1, 1, 1, 1, 0]);
  // Against the bottom-right corner of the canvas there is no room for the frame, as on TRM's 30x30.
  const corner = encodeGrid(g, { rowOffset: 4, colOffset: 3, canvas: 6 });
  assert.equal(corner.reduce((s, v) => s + (v === 1 ? 1 : 0), 0), 0);
  // Against the bottom edge only: the EOS column, no EOS row.
  const bottom = encodeGrid(g, { rowOffset: 4, colOffset: 0, canvas: 6 });
  assert.deepEqual([bottom[4 * 6 + 3], bottom[5 * 6 + 3]], [1, 1]);
  assert.throws(() => encodeGrid(g, { rowOffset: 5, canvas: 6 }), /must fit the 6x6 canvas/);
  assert.throws(() => encodeGrid(g, { canvas: 31 }), RangeError);
  assert.throws(() => decodeGrid(new Uint8Array(36)), /expected 900/);
  assert.equal(decodeGrid(new Uint8Array(36), 6), null);
  fc.assert(
    fc.property(arbOnCanvas, ({ n, g }) => {
      assert.deepEqual(decodeGrid(encodeGrid(g, { canvas: n }), n), g);
    }),
    { numRuns: 300 },
  );
});

Deno.test("on a G x G canvas, inverse augmentation of the cropped augmented grid round-trips", () => {
  fc.assert(
    fc.property(arbOnCanvas, fc.integer({ min: 0, max: 7 }), arbPerm19, ({ n, g }, t, colors) => {
      // A square canvas holds every dihedral image of a grid that fits it.
      const aug = dihedral(applyColors(g, colors), t);
      const cropped = decodeGrid(encodeGrid(aug, { canvas: n }), n)!;
      const parsed = parseAugmentName(augmentName("abc", t, colors));
      assert.deepEqual(applyColors(inverseDihedral(cropped, parsed.dihedral), invertColors(parsed.colors)), g);
    }),
    { numRuns: 300 },
  );
});
