/**
 * Datasets: TRM's ARC augmentations and token layout, the N-Queens generator and metrics, ARC loading,
 * the lazy augmentation index and TRM's batch sampler, exports, and the pinned-commit data fetcher.
 *
 * @example
 * ```ts
 * import { augmentName, parseAugmentName } from "./mod.ts";
 * parseAugmentName(augmentName("00576224", 1, [0, 2, 1, 3, 4, 5, 6, 7, 8, 9])).dihedral; // 1
 * ```
 *
 * @module
 */
export {
  applyColors,
  ARC_MAX_SIZE,
  ARC_SEQ_LEN,
  ARC_VOCAB,
  AUGMENT_SEPARATOR,
  augmentName,
  COLOR_OFFSET,
  decodeGrid,
  dihedral,
  DIHEDRAL_INVERSE,
  encodeGrid,
  EOS,
  type Grid,
  IDENTITY_COLORS,
  inverseDihedral,
  invertColors,
  PAD,
  parseAugmentName,
} from "./augment.ts";
export {
  ARC_SETS,
  ARC_SUBSETS,
  type ArcPair,
  type ArcSetName,
  type ArcSource,
  type ArcSubset,
  type ArcTask,
  gridToJson,
  loadKaggleSubset,
  loadSubset,
  loadTaskFile,
  parseArcSet,
  parseArcSource,
  parseTask,
  SUBSET_DIRS,
  taskToJson,
} from "./arc.ts";
export {
  ARC_INDEX_FORMAT,
  ARC_INDEX_VERSION,
  type ArcExampleInfo,
  type ArcIndex,
  arcIndexFromJson,
  type ArcIndexOptions,
  arcIndexToJson,
  type ArcSplit,
  arcSplits,
  AUGMENT_RETRIES_FACTOR,
  augmentationCodes,
  augmentTask,
  buildArcIndex,
  buildArcIndexFromTasks,
  type DataProgress,
  identifierName,
  numIdentifiers,
  splitPairs,
} from "./arc_index.ts";
export {
  type Batch,
  IGNORE_LABEL,
  materialise,
  numExamples,
  type PuzzleSplit,
  type SamplerState,
  testBatches,
  TrainSampler,
} from "./sampler.ts";
export {
  allSolutions,
  ceiling,
  ceilingByGiven,
  countCompletions,
  countQueens,
  generateNQueens,
  isExact,
  isValidCompletion,
  isValidSolution,
  NQ_EMPTY,
  NQ_QUEEN,
  NQ_SEQ_LEN,
  NQ_SIDE,
  NQ_VOCAB,
  NQUEENS_VARIANTS,
  type NQueensExample,
  type NQueensOverlap,
  type NQueensSet,
  nqueensSplit,
  type NQueensVariant,
  parseNQueensVariant,
  randomSolution,
} from "./nqueens.ts";
export {
  DATA_FORMATS,
  type DataFormat,
  type FileHashes,
  type NQueensSummary,
  nqueensSummary,
  parseDataFormat,
  trmMetadata,
  writeArcDataset,
  writeNQueensDataset,
  type WriteSummary,
} from "./export.ts";
export { decodeNpy, encodeNpy, type NpyDtype, npyHeader } from "./npy.ts";
export {
  buildManifest,
  DEFAULT_ARCHIVE_BASE_URL,
  defaultCacheDir,
  FETCH_SETS,
  type FetchEvent,
  type FetchResult,
  fetchSets,
  MANIFEST,
  type Manifest,
  type ManifestSet,
  parseFetchSets,
  setHash,
  SOURCES,
  verifySet,
} from "./fetch.ts";
