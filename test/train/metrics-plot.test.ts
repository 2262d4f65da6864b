// D27 metrics against values worked by hand, and the loss plots.
import { expect } from 'chai';
import { classificationReport, confusionMatrix, formatConfusion } from '../../src/train/metrics.js';
import { asciiPlot, svgPlot } from '../../src/train/plot.js';

describe('classification metrics (D27)', () => {
  // true:      1 1 1 0 0 0 0 1
  // predicted: 1 0 1 0 1 0 0 1  → TP=3 FN=1 FP=1 TN=3 for class 1
  const t = [1, 1, 1, 0, 0, 0, 0, 1];
  const p = [1, 0, 1, 0, 1, 0, 0, 1];
  it('confusion matrix counts (true, predicted) pairs', () => {
    expect(confusionMatrix(t, p, 2)).to.deep.equal([[3, 1], [1, 3]]);
  });
  it('accuracy, precision, recall and F1 match the hand computation', () => {
    const r = classificationReport(t, p, 2);
    expect(r.accuracy).to.equal(6 / 8);
    expect(r.perClass[1].precision).to.equal(3 / 4); // TP / (TP + FP)
    expect(r.perClass[1].recall).to.equal(3 / 4); // TP / (TP + FN)
    expect(r.perClass[1].f1).to.be.closeTo(0.75, 1e-12);
    expect(r.macro.f1).to.be.closeTo(0.75, 1e-12);
  });
  it('a class never predicted has precision 0, not NaN', () => {
    const r = classificationReport([0, 1, 2], [0, 0, 0], 3);
    expect(r.perClass[2].precision).to.equal(0);
    expect(r.perClass[0].precision).to.equal(1 / 3);
  });
  it('refuses labels out of range and length mismatches', () => {
    expect(() => confusionMatrix([0, 3], [0, 0], 2)).to.throw(/label pair \(3, 0\) at 1 is outside 0..1/);
    expect(() => confusionMatrix([0], [0, 1], 2)).to.throw(/1 true labels but 2 predictions/);
  });
  it('formats a confusion matrix with names', () => {
    expect(formatConfusion([[3, 1], [1, 3]], ['ham', 'spam'])).to.contain('spam |    1    3');
  });
});

describe('loss plots', () => {
  const train: [number, number][] = Array.from({ length: 50 }, (_, i) => [i + 1, 3 * Math.exp(-i / 10) + 0.5]);
  const val: [number, number][] = [[10, 2], [20, 1.3], [50, 0.7]];
  it('draws an ascii chart', () => {
    const chart = asciiPlot([{ name: 'train', points: train }, { name: 'val', points: val }], { width: 40, height: 8 });
    expect(chart.split('\n').length).to.be.greaterThan(8);
    expect(chart).to.contain('steps 1 … 50');
  });
  it('renders an SVG with one path per series and a legend', () => {
    const svg = svgPlot([{ name: 'train', points: train }, { name: 'val', points: val }], { title: 'gpt-nano' });
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.match(/<path /g)!.length).to.equal(2);
    expect(svg).to.contain('>val</text>');
    expect(svg).to.contain('gpt-nano');
  });
});
