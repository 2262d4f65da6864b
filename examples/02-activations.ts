// Lesson 2: the activations and their derivatives (D3–D5), by hand and by autograd.
//   D3  ReLU(x) = max(0, x)                     ReLU'(x) = 1 if x > 0 else 0
//   D4  σ(x) = 1 / (1 + e^−x)                   σ'(x) = σ(x)(1 − σ(x))
//   D5  tanh(x) = (e^x − e^−x) / (e^x + e^−x)   tanh'(x) = 1 − tanh²(x)
// Run: npx tsx examples/02-activations.ts
import * as tg from '../src/index.js';
import { agreement, maxAbsDiff, num, section, table } from './lib/lesson.js';

const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
const f64 = { dtype: 'float64' } as const;

/** f applied to xs by autograd: the values, and the derivative at each point (∂Σf/∂x_i = f'(x_i)). */
function withAutograd(f: (x: tg.Tensor) => tg.Tensor): { value: Float64Array; slope: Float64Array } {
  const x = tg.tensor(xs, { ...f64, requiresGrad: true });
  const y = f(x);
  y.sum().backward();
  return { value: y.data as Float64Array, slope: x.grad!.data as Float64Array };
}

const activations = [
  {
    name: 'D3 ReLU',
    value: (x: number) => Math.max(0, x),
    slope: (x: number) => (x > 0 ? 1 : 0), // at 0 the derivative is undefined; the convention is 0
    autograd: withAutograd((x) => x.relu()),
  },
  {
    name: 'D4 sigmoid',
    value: (x: number) => 1 / (1 + Math.exp(-x)),
    slope: (x: number) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    },
    autograd: withAutograd((x) => x.sigmoid()),
  },
  {
    name: 'D5 tanh',
    value: (x: number) => (Math.exp(x) - Math.exp(-x)) / (Math.exp(x) + Math.exp(-x)), // as D5 writes it
    slope: (x: number) => 1 - Math.tanh(x) ** 2,
    autograd: withAutograd((x) => x.tanh()),
  },
];

for (const act of activations) {
  section(act.name);
  const handValue = xs.map(act.value), handSlope = xs.map(act.slope);
  table([
    ['x', 'f(x) hand', 'f(x) autograd', "f'(x) hand", "f'(x) autograd"],
    ...xs.map((x, i) => [x, num(handValue[i]), num(act.autograd.value[i]), num(handSlope[i]), num(act.autograd.slope[i])]),
  ]);
  agreement(Math.max(maxAbsDiff(handValue, act.autograd.value), maxAbsDiff(handSlope, act.autograd.slope)), "values and f'");
}

section('What the derivatives mean for learning');
const sigmoidMax = Math.max(...activations[1].autograd.slope);
console.log(`  largest σ'(x) = ${num(sigmoidMax)} (at x = 0): each sigmoid layer scales a gradient by ≤ 1/4,`);
console.log(`  so through 10 sigmoid layers the σ' factors alone shrink it by a factor of at least 4^10 = ${4 ** 10} (the vanishing gradient);`);
console.log(`  tanh'(0) = ${num(activations[2].autograd.slope[3])} and ReLU'(x > 0) = 1 pass it on unchanged.`);
// tanh is a rescaled sigmoid: tanh(x) = 2σ(2x) − 1
const x = tg.tensor(xs, f64);
console.log(`  tanh(x) = 2σ(2x) − 1: max difference ${maxAbsDiff(x.tanh(), x.mul(2).sigmoid().mul(2).sub(1)).toExponential(1)}`);

section('D5 as written overflows');
const big = 800; // e^800 is beyond float64 (max ≈ 1.8e308)
const written = (Math.exp(big) - Math.exp(-big)) / (Math.exp(big) + Math.exp(-big));
console.log(`  x = ${big}: (e^x − e^−x)/(e^x + e^−x) = ${written} (∞/∞), tg.tanh gives ${tg.tensor([big], f64).tanh().item()}`);
console.log(`  D4 as written at x = −${big}: e^${big} = ∞ and 1/(1 + ∞) = ${1 / (1 + Math.exp(big))}, right by luck; tg.sigmoid computes e^x/(1 + e^x) for x < 0 and never forms ∞`);

console.log('\nNotice: autograd finds the same derivatives as the textbook rules; σ\' is at most 0.25, which is why deep sigmoid stacks learn slowly, and formulas as written can overflow where the library\'s stable forms do not.');
