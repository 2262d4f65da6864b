// What a --data file is, checked before a run is set up: a missing or empty file is an error
// naming --data, and a file whose every line is `text<TAB>label` with a small label set is
// labelled data (a BERT run classifies it) whatever its extension, so a labelled .txt no longer
// trains masked language modelling without a word.
import * as fs from 'node:fs';
import { CLASSIFICATION_DATASETS, IMAGE_DATASETS, TEXT_DATASETS } from '../data/datasets.js';
import { readTextFile, splitLines } from '../data/files.js';
import { isShardFolder } from '../data/shards.js';

const BUILT_IN: readonly string[] = [...TEXT_DATASETS, ...CLASSIFICATION_DATASETS, ...IMAGE_DATASETS];

/** Files up to this size are read whole to see whether they hold only white space. */
const WHOLE_READ_BYTES = 16 * 2 ** 20;

/** Bytes read to decide a file's shape: a large corpus is not read whole (nor into one string) for that. */
const SNIFF_BYTES = 4 * 2 ** 20;

/** The first SNIFF_BYTES of a file as text (the whole file when it is smaller). */
function readHead(file: string): string {
  const size = fs.statSync(file).size;
  if (size <= SNIFF_BYTES) return readTextFile(file, '--data');
  const buf = Buffer.alloc(SNIFF_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buf, 0, SNIFF_BYTES, 0);
  } finally {
    fs.closeSync(fd);
  }
  const text = buf.toString('utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1); // whole lines only
}

/** Lines read to decide a file's shape (a large corpus is not read whole for that). */
const SNIFF_LINES = 5000;
/** At most this many distinct labels, and at most one per 3 examples: a label set, not free text. */
const MAX_LABELS = 50;

/** --data as a file: it must exist and hold something (a built-in name passes through). */
export function checkDataFile(data: string): void {
  if (BUILT_IN.includes(data)) return;
  if (!fs.existsSync(data)) {
    const known = BUILT_IN.join(', ');
    throw new Error(`--data ${data}: file not found (and not a built-in dataset: ${known})`);
  }
  const stat = fs.statSync(data);
  if (stat.isDirectory()) {
    if (isShardFolder(data)) return; // token shards written by tsgrad prepare
    throw new Error(`--data ${data} is a folder but not one written by tsgrad prepare (no shards.json); give a text file, a shard folder, or one of ${BUILT_IN.join(', ')}`);
  }
  if (stat.size === 0) throw new Error(`--data ${data} is empty (0 bytes)`);
  // white space only? (a large corpus is not read whole for that)
  if (stat.size <= WHOLE_READ_BYTES && readTextFile(data, '--data').trim() === '') throw new Error(`--data ${data} is empty (${stat.size} bytes of white space)`);
}

export interface LabelledShape {
  /** Examples seen (up to SNIFF_LINES lines). */
  examples: number;
  /** The distinct labels, sorted. */
  labels: string[];
}

/**
 * The labelled shape of a file, or null: every non-blank line (a `text<TAB>label` header aside)
 * is text, a tab, and a label of at most 40 characters; at least 4 examples, 2 to 50 labels and
 * no more than one label per 3 examples (a tab-separated corpus of free text has about as many
 * "labels" as lines).
 */
export function labelledShape(file: string): LabelledShape | null {
  if (BUILT_IN.includes(file) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
  const lines = splitLines(readHead(file)).filter((l) => l.trim() !== '').slice(0, SNIFF_LINES);
  if (lines.length > 0 && /^text\tlabel$/i.test(lines[0].trim())) lines.shift();
  const labels = new Set<string>();
  for (const line of lines) {
    const tab = line.lastIndexOf('\t');
    if (tab < 0) return null;
    const label = line.slice(tab + 1).trim();
    if (label === '' || label.length > 40 || line.slice(0, tab).trim() === '') return null;
    labels.add(label);
  }
  if (lines.length < 4 || labels.size < 2 || labels.size > MAX_LABELS || labels.size * 3 > lines.length) return null;
  return { examples: lines.length, labels: [...labels].sort() };
}

/** The line printed when a file's shape chose the task. */
export function describeShape(file: string, shape: LabelledShape): string {
  const shown = shape.labels.slice(0, 8).join(', ') + (shape.labels.length > 8 ? ', …' : '');
  return `task      classify: every line of ${file} is text<TAB>label (${shape.examples} examples, labels ${shown}); --task mlm reads it as plain text`;
}
