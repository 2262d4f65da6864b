// D20, the worked example of doc 004: ten samples x = 0.1 … 1.0 with alternating labels 0, 1, 0, …,
// a 1-10-1 network with sigmoid activations, mean squared error (D10) and SGD with α = 0.1 (D17).
// Run: npx tsx examples/05-worked-example-d20.ts [--epochs N] [--fast]
import * as tg from '../src/index.js';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const epochsArg = args.indexOf('--epochs');
const epochs = epochsArg >= 0 ? Number(args[epochsArg + 1]) : fast ? 200 : 20000;
const lr = 0.1;

tg.manualSeed(0);
// the data of D20: x_i = i/10, y_i = 0 for odd i and 1 for even i (0 for 0.1, 1 for 0.2, …)
const x = tg.arange(1, 11).to('float64').div(10).reshape(10, 1);
const y = tg.tensor(Array.from({ length: 10 }, (_, i) => [i % 2]), { dtype: 'float64' });

// θ = (W1 [10, 1], b1 [10], W2 [1, 10], b2 [1]), initialised like PyTorch's Linear: U(−1/√in, 1/√in)
const uniform = (shape: number[], fanIn: number) => tg.rand(shape, { dtype: 'float64' }).mul(2).sub(1).div(Math.sqrt(fanIn)).requiresGrad_();
const W1 = uniform([10, 1], 1), b1 = uniform([10], 1);
const W2 = uniform([1, 10], 10), b2 = uniform([1], 10);
const params = { W1, b1, W2, b2 };

// D6/D1: ŷ = σ(W2 · σ(W1 · x + b1) + b2); D10: L = 1/n Σ (y − ŷ)²
const forward = () => tg.sigmoid(tg.sigmoid(x.matmul(W1.T).add(b1)).matmul(W2.T).add(b2));
const loss = () => forward().sub(y).pow(2).mean();

// One iteration by the book: θ₁ = θ₀ − α ∂L/∂θ (D14, D17)
const L0 = loss();
L0.backward();
console.log(`D20: 10 samples, 1-10-1 sigmoid network (${[W1, b1, W2, b2].reduce((n, p) => n + p.size, 0)} parameters), MSE, SGD α = ${lr}`);
console.log(`L(θ₀) = ${L0.item().toFixed(6)}`);
console.log('∂L/∂W2 at θ₀ (10 numbers, one per hidden neuron — the document prints 10 gradient entries for a θ of 3):');
console.log('  ' + W2.grad!.toString());
tg.noGrad(() => {
  for (const p of Object.values(params)) {
    p.data.set(p.sub(p.grad!.mul(lr)).data);
    p.zeroGrad();
  }
});
console.log('θ₁: W2 after one step = ' + W2.detach().toString());
console.log(`L(θ₁) = ${loss().item().toFixed(6)} (one step lowers the loss)\n`);

// Then train to the end: full-batch gradient descent
const report = Math.max(1, Math.floor(epochs / 10));
for (let epoch = 1; epoch <= epochs; epoch++) {
  const L = loss();
  L.backward();
  tg.noGrad(() => {
    for (const p of Object.values(params)) {
      p.data.set(p.sub(p.grad!.mul(lr)).data);
      p.zeroGrad();
    }
  });
  if (epoch % report === 0 || epoch === 1) console.log(`epoch ${String(epoch).padStart(6)}  loss ${L.item().toFixed(6)}`);
}
const predictions = tg.noGrad(forward);
console.log(`\npredictions: ${Array.from(predictions.data, (p) => p.toFixed(2)).join(' ')}`);
console.log(`labels:      ${Array.from(y.data, (v) => v.toFixed(2)).join(' ')}`);
console.log('Notice: the loss falls, but slowly: alternating labels on a line are hard for 10 sigmoid units trained by plain SGD at α = 0.1, which first learns the mean (0.5, loss ≈ 0.25) and then a trend; D20 shows the mechanics of one step, not a good fit.');
