# A plain PyTorch forward of a Hugging Face model folder (config.json + model.safetensors), written
# from Hugging Face's GPT2LMHeadModel and BertForMaskedLM code paths, with its own safetensors
# reader: nothing from tsgrad, and no transformers package needed. Used by scale-out.test.ts.
#   python3 hf_forward.py DIR '{"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}'
# prints {"logits": [...], "shape": [...]} as JSON.
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F


def read_safetensors(path):
    """8-byte little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}}, the data."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        assert entry['dtype'] == 'F32', f'{name}: dtype {entry["dtype"]}'
        start, end = entry['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry['shape'])
    return out


def gelu(x, kind):
    if kind in ('gelu_new', 'gelu_pytorch_tanh'):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return F.gelu(x)  # 'gelu': the exact erf form


def gpt2(w, c, ids):
    p = lambda name: w[f'transformer.{name}']
    B, T = ids.shape
    C, nh = c['n_embd'], c['n_head']
    eps = c['layer_norm_epsilon']
    ln = lambda x, name: F.layer_norm(x, (C,), p(f'{name}.weight'), p(f'{name}.bias'), eps)
    conv1d = lambda x, name: x @ p(f'{name}.weight') + p(f'{name}.bias')  # Conv1D: weight [in, out]
    h = p('wte.weight')[ids] + p('wpe.weight')[:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(c['n_layer']):
        q, k, v = conv1d(ln(h, f'h.{l}.ln_1'), f'h.{l}.attn.c_attn').split(C, dim=2)
        q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // nh)
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        h = h + conv1d(y, f'h.{l}.attn.c_proj')
        m = gelu(conv1d(ln(h, f'h.{l}.ln_2'), f'h.{l}.mlp.c_fc'), c['activation_function'])
        h = h + conv1d(m, f'h.{l}.mlp.c_proj')
    h = ln(h, 'ln_f')
    head = w.get('lm_head.weight', p('wte.weight'))  # tied: stored once, as wte
    return h @ head.T


def bert_mlm(w, c, ids, mask, types):
    B, T = ids.shape
    C, nh = c['hidden_size'], c['num_attention_heads']
    eps = c['layer_norm_eps']
    ln = lambda x, name: F.layer_norm(x, (C,), w[f'{name}.weight'], w[f'{name}.bias'], eps)
    linear = lambda x, name: F.linear(x, w[f'{name}.weight'], w[f'{name}.bias'])  # nn.Linear: weight [out, in]
    e = 'bert.embeddings'
    h = w[f'{e}.word_embeddings.weight'][ids] + w[f'{e}.position_embeddings.weight'][:T] + w[f'{e}.token_type_embeddings.weight'][types]
    h = ln(h, f'{e}.LayerNorm')
    extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # Hugging Face's additive mask
    for l in range(c['num_hidden_layers']):
        at = f'bert.encoder.layer.{l}'
        heads = lambda name: linear(h, f'{at}.attention.self.{name}').view(B, T, nh, C // nh).transpose(1, 2)
        q, k, v = heads('query'), heads('key'), heads('value')
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(C // nh) + extended).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        a = ln(h + linear(y, f'{at}.attention.output.dense'), f'{at}.attention.output.LayerNorm')
        i = gelu(linear(a, f'{at}.intermediate.dense'), c['hidden_act'])
        h = ln(a + linear(i, f'{at}.output.dense'), f'{at}.output.LayerNorm')
    t = 'cls.predictions.transform'
    z = ln(gelu(linear(h, f'{t}.dense'), c['hidden_act']), f'{t}.LayerNorm')
    return z @ w[f'{e}.word_embeddings.weight'].T + w['cls.predictions.bias']


def main():
    folder, inputs = sys.argv[1], json.loads(sys.argv[2])
    with open(f'{folder}/config.json') as f:
        config = json.load(f)
    weights = read_safetensors(f'{folder}/model.safetensors')
    ids = torch.tensor(inputs['input_ids'])
    arch = config['architectures'][0]
    with torch.no_grad():
        if arch == 'GPT2LMHeadModel':
            logits = gpt2(weights, config, ids)
        elif arch == 'BertForMaskedLM':
            logits = bert_mlm(weights, config, ids, torch.tensor(inputs['attention_mask']), torch.tensor(inputs['token_type_ids']))
        else:
            raise SystemExit(f'hf_forward.py: no forward for {arch}')
    print(json.dumps({'logits': logits.flatten().tolist(), 'shape': list(logits.shape)}))


if __name__ == '__main__':
    main()
