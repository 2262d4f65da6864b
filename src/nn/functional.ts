// tg.nn.functional (also tg.F): the functional forms of the layers, losses and activations.
export { softmax, logSoftmax } from '../autograd/ops/softmax.js';
export { relu, sigmoid, tanh, gelu } from '../autograd/ops/unary.js';
