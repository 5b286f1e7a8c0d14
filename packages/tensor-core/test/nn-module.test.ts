import { describe, expect, it } from 'vitest';
import { ones, randn, tensor, zeros } from '../src/creation.js';
import { Generator } from '../src/random.js';
import { tidy } from '../src/scope.js';
import { noGrad } from '../src/grad-mode.js';
import { Tensor } from '../src/tensor.js';
import { functionalCall, Identity, LayerNorm, Linear, MLP, Module, ModuleList, ReLU, Sequential } from '../src/nn/index.js';

/** A tiny transformer-ish tree to check dotted names: blocks.0.attn.qkv.weight etc. */
class Attn extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  constructor(d: number, g: Generator) {
    super();
    this.qkv = this.registerModule('qkv', new Linear(d, 3 * d, { generator: g }));
    this.proj = this.registerModule('proj', new Linear(d, d, { generator: g, bias: false }));
  }
  forward(x: Tensor): Tensor {
    return this.proj.call(this.qkv.call(x).narrow(-1, 0, x.shape[x.ndim - 1]));
  }
}
class Block extends Module {
  readonly norm: LayerNorm;
  readonly attn: Attn;
  readonly table: Tensor;
  readonly cache: Tensor;
  constructor(d: number, g: Generator) {
    super();
    this.norm = this.registerModule('norm', new LayerNorm(d));
    this.attn = this.registerModule('attn', new Attn(d, g));
    this.table = this.registerBuffer('table', tensor([1, 2, 3]));
    this.cache = this.registerBuffer('cache', zeros([2]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    return x.add(this.attn.call(this.norm.call(x)));
  }
}
class Net extends Module {
  readonly scale: Tensor;
  readonly blocks: ModuleList<Block>;
  readonly head: Linear;
  constructor(d = 4, seed = 0) {
    super();
    const g = new Generator(seed);
    this.scale = this.registerParameter('scale', ones([d]));
    this.blocks = this.registerModule('blocks', new ModuleList([new Block(d, g), new Block(d, g)]));
    this.head = this.registerModule('head', new Linear(d, 2, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    let h = x.mul(this.scale);
    for (const b of this.blocks) h = b.call(h);
    return this.head.call(h);
  }
}

const blockKeys = (i: number) => [
  `blocks.${i}.norm.weight`,
  `blocks.${i}.norm.bias`,
  `blocks.${i}.attn.qkv.weight`,
  `blocks.${i}.attn.qkv.bias`,
  `blocks.${i}.attn.proj.weight`,
];

describe('Module registries and names', () => {
  it('lists parameters with dotted PyTorch names in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['scale', ...blockKeys(0), ...blockKeys(1), 'head.weight', 'head.bias']);
    expect(net.parameters().length).toBe(13);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['blocks.0.table', 'blocks.0.cache', 'blocks.1.table', 'blocks.1.cache']);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'blocks',
      'blocks.0',
      'blocks.0.norm',
      'blocks.0.attn',
      'blocks.0.attn.qkv',
      'blocks.0.attn.proj',
      'blocks.1',
      'blocks.1.norm',
      'blocks.1.attn',
      'blocks.1.attn.qkv',
      'blocks.1.attn.proj',
      'head',
    ]);
    expect(net.namedParameters({ prefix: 'model' })[1][0]).toBe('model.blocks.0.norm.weight');
    expect(net.namedParameters({ recurse: false }).map(([n]) => n)).toEqual(['scale']);
    expect(net.getSubmodule('blocks.1.attn.qkv')).toBe(net.blocks.at(1).attn.qkv);
    expect(() => net.getSubmodule('blocks.2')).toThrow(/ModuleList has no submodule "2"/);
  });

  it('stateDict holds parameters and persistent buffers only, in order, as detached values', () => {
    const net = new Net();
    const sd = net.stateDict();
    // torch order: a module's own parameters, then its own buffers, then its children.
    const keysOf = (i: number) => [`blocks.${i}.table`, ...blockKeys(i)];
    expect([...sd.keys()]).toEqual(['scale', ...keysOf(0), ...keysOf(1), 'head.weight', 'head.bias']);
    expect(sd.get('blocks.0.attn.qkv.weight')!.shape).toEqual([12, 4]);
    for (const t of sd.values()) {
      expect(t.requiresGrad).toBe(false);
      expect(t.isLeaf).toBe(true);
    }
  });

  it('lists a shared parameter once', () => {
    class Tied extends Module {
      readonly a: Linear;
      readonly b: Linear;
      constructor() {
        super();
        this.a = this.registerModule('a', new Linear(3, 3));
        this.b = this.registerModule('b', this.a);
      }
      forward(x: Tensor): Tensor {
        return this.b.call(this.a.call(x));
      }
    }
    const m = new Tied();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias']);
    expect(m.modules().length).toBe(2);
  });

  it('rejects bad registrations', () => {
    class Bad extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new Bad();
    m.registerParameter('w', zeros([2]));
    expect(() => m.registerBuffer('w', zeros([2]))).toThrow(/"w" is already registered on Bad as a different kind/);
    expect(() => m.registerParameter('a.b', zeros([2]))).toThrow(/can't contain "\."/);
    expect(() => m.registerParameter('', zeros([2]))).toThrow(/non-empty string/);
    expect(() => m.registerParameter('i', zeros([2], { dtype: 'int32' }))).toThrow(/float dtype; got int32/);
    const x = zeros([2], { requiresGrad: true });
    expect(() => m.registerParameter('y', x.mul(2))).toThrow(/leaf tensor; got the output of MulBackward/);
    expect(() => m.registerModule('sub', {} as Module)).toThrow(/expected "sub" to be a Module/);
    expect(m.registerParameter('frozen', zeros([1]), { requiresGrad: false }).requiresGrad).toBe(false);
  });
});

describe('loadStateDict', () => {
  it('round-trips: a fresh model with the loaded state computes the same outputs', () => {
    const a = new Net(4, 1);
    const b = new Net(4, 2);
    const x = randn([3, 4], { generator: new Generator(5) });
    expect(a.call(x).dataSync()).not.toEqual(b.call(x).dataSync());
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.call(x).dataSync()).toEqual(a.call(x).dataSync());
    // b's fields still point at its registered (and now updated) parameters.
    expect(b.head.weight).toBe(b.namedParameters().find(([n]) => n === 'head.weight')![1]);
    expect(b.head.weight.requiresGrad).toBe(true);
  });

  it('accepts a plain record and casts dtypes; never modifies the given tensors', () => {
    const m = new Linear(2, 2);
    const w = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const bias = tensor([0.5, -0.5], { dtype: 'float64' });
    m.loadStateDict({ weight: w, bias });
    expect(m.weight.dtype).toBe('float32');
    expect(m.weight.tolist()).toEqual([[1, 2], [3, 4]]);
    // Training the module afterwards leaves the source values alone.
    m.call(ones([1, 2])).sum().backward();
    noGrad(() => m.weight.copy_(m.weight.detach().mul(0)));
    expect(m.weight.tolist()).toEqual([[0, 0], [0, 0]]);
    expect(w.tolist()).toEqual([[1, 2], [3, 4]]);
    expect(w.dtype).toBe('float64');
    expect(bias.tolist()).toEqual([0.5, -0.5]);
  });

  it('strict mode lists missing and unexpected keys; non-strict returns them', () => {
    const m = new Net();
    const sd = m.stateDict();
    sd.delete('head.bias');
    sd.delete('blocks.1.table');
    sd.set('head.extra', zeros([1]));
    expect(() => new Net().loadStateDict(sd)).toThrow(
      'loadStateDict: Error(s) in loading state_dict for Net:\n' +
        '\tMissing key(s) in state_dict: "blocks.1.table", "head.bias".\n' +
        '\tUnexpected key(s) in state_dict: "head.extra".',
    );
    const other = new Net(4, 9);
    const before = other.head.bias!.dataSync();
    const res = other.loadStateDict(sd, { strict: false });
    expect(res).toEqual({ missingKeys: ['blocks.1.table', 'head.bias'], unexpectedKeys: ['head.extra'] });
    expect(other.head.bias!.dataSync()).toEqual(before);
    expect(other.head.weight.dataSync()).toEqual(m.head.weight.dataSync());
  });

  it('a shape mismatch throws naming the key and both shapes, even when not strict, and loads nothing', () => {
    const m = new Net(4, 3);
    const before = m.head.bias!.dataSync();
    const sd = new Net(4, 4).stateDict();
    sd.set('head.weight', zeros([3, 4]));
    const msg = 'size mismatch for head.weight: copying a param with shape [3,4] from checkpoint, the shape in current model is [2,4].';
    expect(() => m.loadStateDict(sd)).toThrow(msg);
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(msg);
    expect(m.head.bias!.dataSync()).toEqual(before);
  });

  it('rejects a non-object and non-tensor values', () => {
    const m = new Linear(2, 2);
    expect(() => m.loadStateDict(null as never)).toThrow(/expected a Map or record of name -> Tensor; got null/);
    expect(() => m.loadStateDict({ weight: [[1, 2], [3, 4]] as never, bias: zeros([2]) })).toThrow(/value for weight: expected a Tensor; got object/);
  });
});

describe('modes, gradients, apply, to', () => {
  it('train()/eval() reach every descendant', () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.blocks.train();
    expect(net.training).toBe(false);
    expect(net.blocks.at(0).attn.qkv.training).toBe(true);
  });

  it('call() runs forward; zeroGrad() clears every gradient', () => {
    const net = new Net();
    const x = randn([2, 4], { generator: new Generator(1) });
    expect(net.call(x).dataSync()).toEqual(net.forward(x).dataSync());
    net.call(x).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('apply() visits children before parents', () => {
    const seq = new Sequential(new Linear(2, 2), new ReLU(), new Sequential(new Identity()));
    const seen: string[] = [];
    seq.apply((m) => seen.push(m.className));
    expect(seen).toEqual(['Linear', 'ReLU', 'Identity', 'Sequential', 'Sequential']);
  });

  it("to('float64') converts parameters, buffers and gradients, and keeps fields in sync", () => {
    const net = new Net();
    const x = randn([2, 4], { generator: new Generator(2) });
    const y32 = net.call(x).dataSync();
    net.call(x).sum().backward();
    net.to('float64');
    expect(net.parameters().every((p) => p.dtype === 'float64' && p.requiresGrad && p.grad?.dtype === 'float64')).toBe(true);
    expect(net.blocks.at(0).table.dtype).toBe('float64');
    expect(net.head.weight).toBe(net.namedParameters().find(([n]) => n === 'head.weight')![1]);
    const y64 = net.call(x.to('float64')).dataSync();
    Array.from(y64).forEach((v, i) => expect(v).toBeCloseTo(y32[i], 5));
    expect(() => net.to('int32')).toThrow(/float dtype/);
  });

  it('toString() shows the tree', () => {
    const m = new Sequential(new Linear(2, 3), new ReLU());
    expect(m.toString()).toBe('Sequential(\n  (0): Linear(inFeatures=2, outFeatures=3, bias=true)\n  (1): ReLU()\n)');
  });
});

describe('functionalCall', () => {
  it('uses the given tensors, sends gradients to them, and restores the originals', () => {
    const m = new MLP({ inFeatures: 3, hiddenFeatures: 4, generator: new Generator(1) });
    const x = randn([2, 3], { generator: new Generator(2) });
    const w = zeros([4, 3], { requiresGrad: true });
    const y = functionalCall(m, { 'fc1.weight': w }, x);
    // fc1.weight = 0 makes the hidden layer GELU(bias), the same for every row.
    const rows = y.tolist() as number[][];
    expect(rows[0]).toEqual(rows[1]);
    y.sum().backward();
    expect(w.grad).not.toBeNull();
    expect(m.fc1.weight.grad).toBeNull();
    expect(m.fc1.weight).not.toBe(w);
    expect(m.namedParameters()[0][1]).toBe(m.fc1.weight);
    expect(() => functionalCall(m, { 'fc1.weight': zeros([3, 3]) }, x)).toThrow(/expected "fc1.weight" of shape \[4,3\]; got \[3,3\]/);
    expect(() => functionalCall(m, { 'fc9.weight': zeros([3, 3]) }, x)).toThrow(/no submodule "fc9"/);
  });
});

describe('containers', () => {
  it('Sequential names children 0..n-1 and chains them', () => {
    const s = new Sequential(new Linear(2, 3, { generator: new Generator(0) }), new ReLU(), new Linear(3, 1, { generator: new Generator(1) }));
    expect([...s.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(s.length).toBe(3);
    expect(s.at(-1)).toBe(s.at(2));
    const x = randn([4, 2], { generator: new Generator(3) });
    const manual = s.at(2).forward(s.at(1).forward(s.at(0).forward(x)));
    expect(s.call(x).dataSync()).toEqual(manual.dataSync());
    expect(() => s.at(3)).toThrow(/expected index in \[-3, 2\]; got 3/);
    expect(() => new Sequential({} as never)).toThrow(/expected a Module at index 0/);
  });

  it('ModuleList supports index access, push, length and iteration', () => {
    const l = new ModuleList<Linear>();
    expect(l.length).toBe(0);
    l.push(new Linear(2, 2), new Linear(2, 3));
    expect(l.length).toBe(2);
    expect([...l].map((m) => m.outFeatures)).toEqual([2, 3]);
    expect(l.at(-1).outFeatures).toBe(3);
    expect([...l.stateDict().keys()]).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(() => l.forward()).toThrow(/has no forward/);
    expect(() => l.at(2)).toThrow(/expected index in \[-2, 1\]/);
  });

  it('parameters are not disposed by tidy when a model is built inside it', () => {
    const m = tidy(() => new Net());
    expect(() => m.call(zeros([1, 4]))).not.toThrow();
    expect(m.blocks.at(0).table.tolist()).toEqual([1, 2, 3]);
  });

  it('registers a typed field once (instanceof checks)', () => {
    expect(new Linear(2, 2).weight).toBeInstanceOf(Tensor);
  });
});
