// D27: accuracy, precision, recall, F1 and the confusion matrix, from predicted and true labels.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** confusion[t][p] counts examples of true class t predicted as p. */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** Unweighted mean over classes (scikit-learn's 'macro'). */
  macro: { precision: number; recall: number; f1: number };
}

/** Counts of (true, predicted) pairs. */
export function confusionMatrix(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  if (trueLabels.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${trueLabels.length} true labels but ${predicted.length} predictions`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < trueLabels.length; i++) {
    const t = trueLabels[i], p = predicted[i];
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) {
      throw new Error(`confusionMatrix: label pair (${t}, ${p}) at ${i} is outside 0..${numClasses - 1}`);
    }
    m[t][p]++;
  }
  return m;
}

const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den); // 0 where undefined, as scikit-learn's zero_division=0

/** precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), accuracy = Σ TP / N. */
export function classificationReport(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): ClassificationReport {
  const confusion = confusionMatrix(trueLabels, predicted, numClasses);
  let correct = 0;
  const perClass = confusion.map((row, c) => {
    const tp = row[c];
    correct += tp;
    const predictedAsC = confusion.reduce((s, r) => s + r[c], 0);
    const support = row.reduce((s, v) => s + v, 0);
    const precision = ratio(tp, predictedAsC);
    const recall = ratio(tp, support);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const mean = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((s, m) => s + m[key], 0) / Math.max(1, numClasses);
  return {
    accuracy: ratio(correct, trueLabels.length),
    confusion,
    perClass,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
  };
}

/** A confusion matrix as aligned text, rows = true class, columns = predicted. */
export function formatConfusion(confusion: number[][], names?: string[]): string {
  const labels = names ?? confusion.map((_, i) => String(i));
  const width = Math.max(...labels.map((l) => l.length), ...confusion.flat().map((v) => String(v).length), 4);
  const head = ' '.repeat(width) + ' | ' + labels.map((l) => l.padStart(width)).join(' ') + '   ← predicted';
  const rows = confusion.map((row, i) => labels[i].padStart(width) + ' | ' + row.map((v) => String(v).padStart(width)).join(' '));
  return [head, '-'.repeat(head.length), ...rows].join('\n');
}
