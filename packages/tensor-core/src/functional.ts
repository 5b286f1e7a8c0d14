/** The functional ops grouped like torch.nn.functional (`F.relu(x)`, `F.conv2d(x, w)`, ...). */
import { cat, chunk, pad, roll, split, stack, tril, triu, repeat } from './ops/join.js';
import { conv1d, conv2d } from './ops/conv.js';
import { dropout } from './ops/dropout.js';
import { elu, gelu, leakyRelu, logSigmoid, maskedFill, relu, sigmoid, silu, softplus, tanh, where, clamp } from './ops/elementwise.js';
import { fft, ifft, irfft, rfft } from './ops/fft.js';
import { embedding, gather, indexSelect, scatterAdd } from './ops/indexing.js';
import { interpolate } from './ops/interpolate.js';
import { bmm, linear, matmul } from './ops/matmul.js';
import { layerNorm, rmsNorm } from './ops/normalization.js';
import { logsumexp } from './ops/reduce.js';
import { cumsum, linearRecurrence } from './ops/scan.js';
import { logSoftmax, softmax } from './ops/softmax.js';
import { flip } from './ops/views.js';

export const F = Object.freeze({
  relu,
  gelu,
  silu,
  elu,
  softplus,
  leakyRelu,
  logSigmoid,
  sigmoid,
  tanh,
  softmax,
  logSoftmax,
  logsumexp,
  linear,
  matmul,
  bmm,
  conv1d,
  conv2d,
  layerNorm,
  rmsNorm,
  embedding,
  dropout,
  pad,
  interpolate,
  cat,
  stack,
  split,
  chunk,
  where,
  maskedFill,
  clamp,
  triu,
  tril,
  cumsum,
  linearRecurrence,
  flip,
  roll,
  repeat,
  gather,
  scatterAdd,
  indexSelect,
  fft,
  ifft,
  rfft,
  irfft,
});
