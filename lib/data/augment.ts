/**
 * ARC grids and TRM's augmentations: the eight dihedral transforms (TRM's numbering, `np.rot90` is
 * counter-clockwise), colour permutations with black fixed, the puzzle names that encode both, and the
 * 30x30 token layout with its EOS frame (`dataset/build_arc_dataset.py`, `dataset/common.py`,
 * `evaluators/arc.py` in SamsungSAILMontreal/TinyRecursiveModels @ e7b68717).
 *
 * The canvas side is a parameter (default TRM's 30): the reduced benchmark (docs/data.md) lays grids on a
 * G x G canvas with the same rules, G * G tokens per example. A grid must fit the canvas; its EOS row and
 * column are written where they fit, as on TRM's canvas, so a grid of side G has no EOS on that side.
 *
 * Evaluation inverts an augmentation from the puzzle name alone:
 * `inverseDihedral(applyColors(pred, invertColors(colors)), t)` is the same grid as TRM's
 * `inv_perm[inverse_dihedral_transform(pred, t)]`, because recolouring commutes with moving cells.
 *
 * @module
 */

/** A grid of colours 0..9, row-major. */
export interface Grid {
  /** Rows. */
  h: number;
  /** Columns. */
  w: number;
  /** Colours 0..9, row-major [h * w]. */
  cells: Uint8Array;
}

/** Side of TRM's ARC canvas (and the largest ARC grid side). */
export const ARC_MAX_SIZE = 30;
/** Tokens per ARC example: the 30x30 canvas, row-major. */
export const ARC_SEQ_LEN = ARC_MAX_SIZE * ARC_MAX_SIZE;

/**
 * Checks a canvas side: an integer in 1..30. Returns it.
 *
 * @example
 * ```ts
 * import { checkCanvas } from "./augment.ts";
 * checkCanvas(12); // 12
 * ```
 */
export function checkCanvas(canvas: number): number {
  if (!Number.isInteger(canvas) || canvas < 1 || canvas > ARC_MAX_SIZE) {
    throw new RangeError(`Cannot use an ARC canvas of side ${canvas}: expected an integer in 1..${ARC_MAX_SIZE}`);
  }
  return canvas;
}

/**
 * Tokens per example on a canvas of side `canvas`: `canvas * canvas`.
 *
 * @example
 * ```ts
 * import { arcSeqLen } from "./augment.ts";
 * arcSeqLen(10); // 100
 * ```
 */
export function arcSeqLen(canvas: number = ARC_MAX_SIZE): number {
  return checkCanvas(canvas) ** 2;
}
/** PAD token (outside the grid and its EOS frame). */
export const PAD = 0;
/** EOS token (the frame just below and right of the grid). */
export const EOS = 1;
/** Colour c is token c + 2. */
export const COLOR_OFFSET = 2;
/** ARC vocabulary: PAD, EOS and ten colours. */
export const ARC_VOCAB = 12;
/** TRM's separator inside augmented puzzle names. */
export const AUGMENT_SEPARATOR = "|||";

/** `DIHEDRAL_INVERSE[t]` undoes transform t (only the two quarter turns are not self-inverse). */
export const DIHEDRAL_INVERSE: readonly number[] = Object.freeze([0, 3, 2, 1, 4, 5, 6, 7]);

/** The identity colour map, `[0, 1, ..., 9]`. */
export const IDENTITY_COLORS: readonly number[] = Object.freeze([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

function checkDihedral(t: number): void {
  if (!Number.isInteger(t) || t < 0 || t > 7) {
    throw new RangeError(`Cannot apply dihedral transform ${t}: expected an integer in 0..7`);
  }
}

/**
 * Applies dihedral transform `t` as TRM numbers them: 0 identity, 1 `rot90` (counter-clockwise),
 * 2 `rot180`, 3 `rot270`, 4 `fliplr`, 5 `flipud`, 6 transpose, 7 `fliplr(rot90)` (anti-transpose).
 *
 * @example
 * ```ts
 * import { dihedral } from "./augment.ts";
 * // [[1, 2], [3, 4]] turned counter-clockwise is [[2, 4], [1, 3]]
 * dihedral({ h: 2, w: 2, cells: new Uint8Array([1, 2, 3, 4]) }, 1).cells; // Uint8Array [2, 4, 1, 3]
 * ```
 */
export function dihedral(g: Grid, t: number): Grid {
  checkDihedral(t);
  const { h, w, cells } = g;
  const swap = t === 1 || t === 3 || t === 6 || t === 7;
  const oh = swap ? w : h;
  const ow = swap ? h : w;
  const out = new Uint8Array(h * w);
  let k = 0;
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      // (r, c): the source cell that lands at output (i, j)
      let r: number, c: number;
      switch (t) {
        case 0:
          r = i, c = j;
          break;
        case 1:
          r = j, c = w - 1 - i;
          break;
        case 2:
          r = h - 1 - i, c = w - 1 - j;
          break;
        case 3:
          r = h - 1 - j, c = i;
          break;
        case 4:
          r = i, c = w - 1 - j;
          break;
        case 5:
          r = h - 1 - i, c = j;
          break;
        case 6:
          r = j, c = i;
          break;
        default:
          r = h - 1 - j, c = w - 1 - i;
      }
      out[k++] = cells[r * w + c];
    }
  }
  return { h: oh, w: ow, cells: out };
}

/**
 * Undoes {@linkcode dihedral}: `inverseDihedral(dihedral(g, t), t)` equals `g`.
 *
 * @example
 * ```ts
 * import { dihedral, inverseDihedral } from "./augment.ts";
 * const g = { h: 1, w: 3, cells: new Uint8Array([1, 2, 3]) };
 * inverseDihedral(dihedral(g, 1), 1).cells; // Uint8Array [1, 2, 3]
 * ```
 */
export function inverseDihedral(g: Grid, t: number): Grid {
  checkDihedral(t);
  return dihedral(g, DIHEDRAL_INVERSE[t]);
}

/** Checks a colour map; `what` names it in the error (built only on failure: this runs per grid). */
function checkColors(colors: ArrayLike<number>, what: () => string): void {
  if (colors.length !== 10) {
    throw new RangeError(`Cannot use colour map ${what()}: expected 10 entries, got ${colors.length}`);
  }
  const seen = new Array<boolean>(10).fill(false);
  for (let c = 0; c < 10; c++) {
    const v = colors[c];
    if (!Number.isInteger(v) || v < 0 || v > 9 || seen[v]) {
      throw new RangeError(
        `Cannot use colour map ${what()}: expected a permutation of 0..9, entry ${c} is ${v}`,
      );
    }
    seen[v] = true;
  }
}

/**
 * Recolours a grid: cell colour c becomes `colors[c]`.
 *
 * @example
 * ```ts
 * import { applyColors } from "./augment.ts";
 * const swap12 = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9];
 * applyColors({ h: 1, w: 3, cells: new Uint8Array([0, 1, 2]) }, swap12).cells; // Uint8Array [0, 2, 1]
 * ```
 */
export function applyColors(g: Grid, colors: ArrayLike<number>): Grid {
  checkColors(colors, () => `[${Array.from(colors).join(",")}]`);
  const out = new Uint8Array(g.cells.length);
  for (let i = 0; i < out.length; i++) out[i] = colors[g.cells[i]];
  return { h: g.h, w: g.w, cells: out };
}

/**
 * The inverse colour map (TRM's `np.argsort(perm)`): `inv[colors[c]] = c`.
 *
 * @example
 * ```ts
 * import { invertColors } from "./augment.ts";
 * invertColors([0, 2, 3, 1, 4, 5, 6, 7, 8, 9]); // [0, 3, 1, 2, 4, 5, 6, 7, 8, 9]
 * ```
 */
export function invertColors(colors: ArrayLike<number>): number[] {
  checkColors(colors, () => `[${Array.from(colors).join(",")}]`);
  const inv = new Array<number>(10);
  for (let c = 0; c < 10; c++) inv[colors[c]] = c;
  return inv;
}

function isIdentityColors(colors: ArrayLike<number>): boolean {
  for (let c = 0; c < 10; c++) if (colors[c] !== c) return false;
  return true;
}

/**
 * The puzzle name of an augmentation, as TRM writes it: `${task}|||t${t}|||${colors as 10 digits}`.
 * The identity (t = 0 with the identity colour map) is the bare task id, TRM's name for the original.
 *
 * @example
 * ```ts
 * import { augmentName } from "./augment.ts";
 * augmentName("00576224", 3, [0, 2, 1, 3, 4, 5, 6, 7, 8, 9]); // "00576224|||t3|||0213456789"
 * augmentName("00576224", 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // "00576224"
 * ```
 */
export function augmentName(task: string, t: number, colors: ArrayLike<number>): string {
  checkDihedral(t);
  checkColors(colors, () => `for "${task}"`);
  if (task.includes(AUGMENT_SEPARATOR)) {
    throw new RangeError(`Cannot name augmentation of "${task}": the task id contains "${AUGMENT_SEPARATOR}"`);
  }
  if (t === 0 && isIdentityColors(colors)) return task;
  return `${task}${AUGMENT_SEPARATOR}t${t}${AUGMENT_SEPARATOR}${Array.from(colors).join("")}`;
}

/**
 * Parses a puzzle name written by {@linkcode augmentName} (TRM's `inverse_aug`): a bare name is the
 * identity. Throws SyntaxError on a malformed augmentation suffix.
 *
 * @example
 * ```ts
 * import { parseAugmentName } from "./augment.ts";
 * parseAugmentName("00576224|||t3|||0213456789");
 * // { task: "00576224", dihedral: 3, colors: [0, 2, 1, 3, 4, 5, 6, 7, 8, 9] }
 * ```
 */
export function parseAugmentName(name: string): { task: string; dihedral: number; colors: number[] } {
  if (!name.includes(AUGMENT_SEPARATOR)) return { task: name, dihedral: 0, colors: [...IDENTITY_COLORS] };
  const parts = name.split(AUGMENT_SEPARATOR);
  const tPart = parts[parts.length - 2];
  const cPart = parts[parts.length - 1];
  if (parts.length !== 3 || !/^t[0-7]$/.test(tPart) || !/^[0-9]{10}$/.test(cPart)) {
    throw new SyntaxError(
      `Cannot parse puzzle name "${name}": expected "<task>${AUGMENT_SEPARATOR}t<0..7>${AUGMENT_SEPARATOR}<10 digits>"`,
    );
  }
  const colors = Array.from(cPart, (d) => d.charCodeAt(0) - 48);
  try {
    checkColors(colors, () => `in "${name}"`);
  } catch (e) {
    throw new SyntaxError(`Cannot parse puzzle name "${name}": the colour map is not a permutation of 0..9`, {
      cause: e,
    });
  }
  return { task: parts[0], dihedral: tPart.charCodeAt(1) - 48, colors };
}

/**
 * Places a grid on a `canvas` x `canvas` canvas (default TRM's 30x30, 900 tokens): PAD 0, colour c as
 * c + 2, and EOS 1 in the row just below the grid (over its columns) and the column just right of it (over
 * its rows), where those fit on the canvas; the corner cell stays PAD. The offsets are TRM's translation
 * augmentation.
 *
 * @example
 * ```ts
 * import { encodeGrid } from "./augment.ts";
 * const t = encodeGrid({ h: 1, w: 1, cells: new Uint8Array([5]) });
 * [t[0], t[1], t[30], t[31]]; // [7, 1, 1, 0]
 * const s = encodeGrid({ h: 1, w: 1, cells: new Uint8Array([5]) }, { canvas: 4 });
 * [s.length, s[0], s[1], s[4], s[5]]; // [16, 7, 1, 1, 0]
 * ```
 */
export function encodeGrid(
  g: Grid,
  opts: { rowOffset?: number; colOffset?: number; canvas?: number } = {},
): Uint8Array {
  const canvas = opts.canvas ?? ARC_MAX_SIZE;
  const out = new Uint8Array(arcSeqLen(canvas));
  encodeGridInto(out, 0, g, opts.rowOffset ?? 0, opts.colOffset ?? 0, canvas);
  return out;
}

/**
 * {@linkcode encodeGrid} into `out[at .. at + canvas * canvas)`, which must be all PAD (zero) on entry;
 * used by the batch materialiser to fill a batch buffer without allocating.
 */
export function encodeGridInto(
  out: Uint8Array | Int32Array,
  at: number,
  g: Grid,
  rowOffset: number,
  colOffset: number,
  canvas: number = ARC_MAX_SIZE,
): void {
  const { h, w, cells } = g;
  const n = canvas;
  if (
    !Number.isInteger(rowOffset) || !Number.isInteger(colOffset) || rowOffset < 0 || colOffset < 0 ||
    h < 1 || w < 1 || rowOffset + h > n || colOffset + w > n
  ) {
    throw new RangeError(
      `Cannot encode a ${h}x${w} grid at offset (${rowOffset}, ${colOffset}): it must fit the ${n}x${n} canvas`,
    );
  }
  for (let r = 0; r < h; r++) {
    const base = at + (rowOffset + r) * n + colOffset;
    for (let c = 0; c < w; c++) out[base + c] = cells[r * w + c] + COLOR_OFFSET;
  }
  const eosRow = rowOffset + h;
  const eosCol = colOffset + w;
  if (eosRow < n) {
    const base = at + eosRow * n;
    for (let c = colOffset; c < eosCol; c++) out[base + c] = EOS;
  }
  if (eosCol < n) {
    for (let r = rowOffset; r < eosRow; r++) out[at + r * n + eosCol] = EOS;
  }
}

/**
 * TRM's `_crop` on a `canvas` x `canvas` canvas (default 30): the largest rectangle anchored at the
 * top-left whose tokens are all colours (2..11), shifted back to colours 0..9. Returns null when the
 * top-left token is not a colour.
 *
 * @example
 * ```ts
 * import { decodeGrid, encodeGrid } from "./augment.ts";
 * decodeGrid(encodeGrid({ h: 1, w: 2, cells: new Uint8Array([3, 4]) })); // { h: 1, w: 2, cells: [3, 4] }
 * decodeGrid(encodeGrid({ h: 1, w: 2, cells: new Uint8Array([3, 4]) }, { canvas: 2 }), 2); // the same grid
 * ```
 */
export function decodeGrid(tokens: ArrayLike<number>, canvas: number = ARC_MAX_SIZE): Grid | null {
  const len = arcSeqLen(canvas);
  if (tokens.length !== len) {
    throw new RangeError(
      `Cannot decode a grid from ${tokens.length} tokens: expected ${len} (a ${canvas}x${canvas} canvas)`,
    );
  }
  const n = canvas;
  let maxArea = 0;
  let bestR = 0;
  let bestC = 0;
  let numC = n;
  for (let numR = 1; numR <= n; numR++) {
    for (let c = 1; c <= numC; c++) {
      const x = tokens[(numR - 1) * n + c - 1];
      if (x < 2 || x > 11) {
        numC = c - 1;
        break;
      }
    }
    const area = numR * numC;
    if (area > maxArea) {
      maxArea = area;
      bestR = numR;
      bestC = numC;
    }
  }
  if (maxArea === 0) return null;
  const cells = new Uint8Array(bestR * bestC);
  for (let r = 0; r < bestR; r++) {
    for (let c = 0; c < bestC; c++) cells[r * bestC + c] = tokens[r * n + c] - COLOR_OFFSET;
  }
  return { h: bestR, w: bestC, cells };
}
