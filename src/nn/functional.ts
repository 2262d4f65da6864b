// tg.nn.functional (also tg.F): the functional forms of the layers, losses and activations.
export { softmax, logSoftmax } from '../autograd/ops/softmax.js';
export { relu, sigmoid, tanh, gelu } from '../autograd/ops/unary.js';
export { linear, dropout, embedding } from '../autograd/ops/nn.js';
export { layerNorm, batchNorm } from '../autograd/ops/norm.js';
export { crossEntropy, nllLoss, mseLoss, binaryCrossEntropy, bceWithLogits } from '../autograd/ops/losses.js';
export { conv2d, maxPool2d, avgPool2d } from '../autograd/ops/conv.js';
export { packedAttention, scaledDotProductAttention } from '../autograd/ops/attention.js';
