// Hugging Face's `tokenizers` schema (tokenizer.json) for the two tokenizers that have an exact
// equivalent there: byte-level BPE (GPT-2: ByteLevel pre-tokenizer and decoder, model BPE) and
// WordPiece (BERT: BertNormalizer, BertPreTokenizer, TemplateProcessing, WordPiece decoder).
// toHuggingFace gives every file of a folder that Hugging Face's libraries open (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, and the slow tokenizers' vocab files);
// fromHuggingFace reads a tokenizer.json back and names the component it cannot reproduce.
import { BPETokenizer } from './bpe.js';
import { BERT_SPECIAL_TOKENS, MAX_INPUT_CHARS_PER_WORD, WordPieceTokenizer, isMaxInputChars } from './wordpiece.js';

type Json = Record<string, unknown>;

/** How an added token is matched: whole, in the raw text (not normalized), and special. */
const SPECIAL = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
const addedToken = (content: string, id: number) => ({ id, content, ...SPECIAL });

/** The files of a tokenizer folder, name → content. */
export function toHuggingFace(tokenizer: BPETokenizer | WordPieceTokenizer): Record<string, string> {
  return tokenizer instanceof BPETokenizer ? bpeFiles(tokenizer) : wordPieceFiles(tokenizer);
}

const text = (json: unknown) => `${JSON.stringify(json, null, 2)}\n`;

function addedTokensDecoder(specials: Readonly<Record<string, number>>): Json {
  return Object.fromEntries(Object.entries(specials).map(([content, id]) => [String(id), { content, ...SPECIAL }]));
}

function bpeFiles(t: BPETokenizer): Record<string, string> {
  const vocab = t.toJSON().vocab as Record<string, number>;
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(t.specialTokens).map(([s, id]) => addedToken(s, id)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: t.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  // GPT-2 uses <|endoftext|> as bos, eos and unk; other special tokens are additional ones
  const eot = Object.hasOwn(t.specialTokens, '<|endoftext|>') ? '<|endoftext|>' : null;
  const others = Object.keys(t.specialTokens).filter((s) => s !== eot);
  const map = { ...(eot ? { bos_token: eot, eos_token: eot, unk_token: eot } : {}), ...(others.length ? { additional_special_tokens: others } : {}) };
  const config = {
    ...map, add_prefix_space: false, clean_up_tokenization_spaces: false, // decode(encode(s)) === s, as tsgrad
    tokenizer_class: 'GPT2Tokenizer', added_tokens_decoder: addedTokensDecoder(t.specialTokens),
  };
  return {
    'tokenizer.json': text(tokenizer),
    'tokenizer_config.json': text(config),
    'special_tokens_map.json': text(map),
    'vocab.json': text(vocab),
    'merges.txt': `#version: 0.2\n${t.merges.map(([a, b]) => `${a} ${b}\n`).join('')}`,
  };
}

function wordPieceFiles(t: WordPieceTokenizer): Record<string, string> {
  const o = t.options;
  const cls = t.specialTokens['[CLS]'];
  const sep = t.specialTokens['[SEP]'];
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const bert = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: o.tokenizeChineseChars, strip_accents: o.stripAccents, lowercase: o.lowercase };
  // NFD strips accents, so composing first changes nothing; without stripping, tsgrad composes
  const normalizer = o.nfc && !o.stripAccents ? { type: 'Sequence', normalizers: [{ type: 'NFC' }, bert] } : bert;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(t.specialTokens).map(([s, id]) => addedToken(s, id)),
    normalizer,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: cls === undefined || sep === undefined ? null : { // a vocabulary without [CLS] or [SEP] adds nothing
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0), seq('B', 1), special('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false }, // tsgrad's decode joins pieces and nothing more
    model: {
      type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: o.maxInputCharsPerWord,
      vocab: Object.fromEntries(t.vocab.map((token, id) => [token, id])),
    },
  };
  const names: Record<string, string> = { '[UNK]': 'unk_token', '[SEP]': 'sep_token', '[PAD]': 'pad_token', '[CLS]': 'cls_token', '[MASK]': 'mask_token' };
  const map = Object.fromEntries(Object.keys(t.specialTokens).map((s) => [names[s], s]));
  const config = {
    ...map, do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: o.tokenizeChineseChars,
    clean_up_tokenization_spaces: false, tokenizer_class: 'BertTokenizer',
    added_tokens_decoder: addedTokensDecoder(t.specialTokens),
  };
  return {
    'tokenizer.json': text(tokenizer),
    'tokenizer_config.json': text(config),
    'special_tokens_map.json': text(map),
    'vocab.txt': `${t.vocab.join('\n')}\n`,
  };
}

/** Whether parsed JSON is in Hugging Face's schema (a `model` object) rather than tsgrad's own (a `type`). */
export function isHuggingFaceJSON(json: unknown): json is Json {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && typeof (json as Json).model === 'object' && (json as Json).model !== null;
}

/**
 * A tokenizer from a Hugging Face tokenizer.json (`where` names it in errors). Runtime settings
 * (truncation, padding) are ignored; any component tsgrad does not reproduce exactly is an error.
 */
export function fromHuggingFace(json: Json, where = 'tokenizer.json'): BPETokenizer | WordPieceTokenizer {
  const model = json.model as Json;
  const fail = (component: string, what: string): never => {
    throw new Error(`fromHuggingFace: ${where}: ${component} ${what}`);
  };
  const added = readAddedTokens(json.added_tokens, fail);
  if (model.type === 'BPE') return readBPE(json, model, added, fail);
  if (model.type === 'WordPiece') return readWordPiece(json, model, added, fail);
  return fail('model', `${describe(model.type)} is not supported (tsgrad reads BPE and WordPiece)`);
}

type Fail = (component: string, what: string) => never;

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

const typeOf = (component: unknown): unknown => (component === null || component === undefined ? null : (component as Json).type);

function readAddedTokens(value: unknown, fail: Fail): { content: string; id: number }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail('added_tokens', 'must be an array');
  return (value as Json[]).map((t, k) => {
    if (typeof t !== 'object' || t === null || typeof t.content !== 'string' || !Number.isInteger(t.id) || (t.id as number) < 0) fail(`added_tokens[${k}]`, `must have a string content and a non-negative integer id (got ${describe(t)})`);
    if (t.lstrip === true || t.rstrip === true || t.single_word === true) fail(`added_tokens[${k}] (${describe(t.content)})`, 'uses lstrip, rstrip or single_word, which tsgrad does not implement');
    return { content: t.content as string, id: t.id as number };
  });
}

function vocabObject(model: Json, fail: Fail): Record<string, number> {
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) fail(`model ${model.type}`, 'vocab must be an object {token: id}');
  for (const [token, id] of Object.entries(vocab as Json)) {
    if (!Number.isInteger(id) || (id as number) < 0) fail(`model ${model.type}`, `vocab id of ${describe(token)} must be a non-negative integer (got ${describe(id)})`);
  }
  return vocab as Record<string, number>;
}

function readBPE(json: Json, model: Json, added: { content: string; id: number }[], fail: Fail): BPETokenizer {
  if (json.normalizer !== null && json.normalizer !== undefined) fail('normalizer', `${describe(typeOf(json.normalizer))} is not supported with byte-level BPE (only none, as GPT-2)`);
  const pre = json.pre_tokenizer as Json | null;
  if (typeOf(pre) !== 'ByteLevel') fail('pre_tokenizer', `${describe(typeOf(pre))} is not supported with BPE (only ByteLevel, as GPT-2)`);
  if (pre!.add_prefix_space === true) fail('pre_tokenizer ByteLevel', 'add_prefix_space true is not supported');
  if (pre!.use_regex === false) fail('pre_tokenizer ByteLevel', 'use_regex false is not supported');
  if (!['ByteLevel', null].includes(typeOf(json.post_processor) as string | null)) fail('post_processor', `${describe(typeOf(json.post_processor))} is not supported with BPE (only ByteLevel or none)`);
  if (!['ByteLevel', null].includes(typeOf(json.decoder) as string | null)) fail('decoder', `${describe(typeOf(json.decoder))} is not supported with BPE (only ByteLevel or none)`);
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    if (model[key] !== undefined && model[key] !== null && model[key] !== '') fail('model BPE', `${key} ${describe(model[key])} is not supported`);
  }
  for (const key of ['byte_fallback', 'ignore_merges']) if (model[key] === true) fail('model BPE', `${key} true is not supported`);
  if (typeof model.dropout === 'number' && model.dropout > 0) fail('model BPE', `dropout ${model.dropout} is not supported (encoding is deterministic)`);
  const vocab = { ...vocabObject(model, fail) };
  for (const { content, id } of added) {
    if (vocab[content] === undefined) vocab[content] = id; // tokenizers keeps added tokens out of the model's vocab
    else if (vocab[content] !== id) fail(`added_tokens (${describe(content)})`, `has id ${id} but the vocab gives ${vocab[content]}`);
  }
  if (!Array.isArray(model.merges)) fail('model BPE', 'merges must be an array');
  const merges = (model.merges as unknown[]).map((m, k): [string, string] => {
    const pair = typeof m === 'string' ? m.split(' ') : m; // "a b" (tokenizers < 0.20) or ["a", "b"]
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'string' && x !== '')) fail('model BPE', `merge ${k} (${describe(m)}) is not two tokens`);
    return pair as [string, string];
  });
  return new BPETokenizer(vocab, merges, added.map((a) => a.content), (k) => `model BPE merge ${k}`);
}

function readWordPiece(json: Json, model: Json, added: { content: string; id: number }[], fail: Fail): WordPieceTokenizer {
  const { nfc, bert } = bertNormalizer(json.normalizer, fail);
  if (typeOf(json.pre_tokenizer) !== 'BertPreTokenizer') fail('pre_tokenizer', `${describe(typeOf(json.pre_tokenizer))} is not supported with WordPiece (only BertPreTokenizer, as BERT)`);
  if (!['TemplateProcessing', 'BertProcessing', null].includes(typeOf(json.post_processor) as string | null)) fail('post_processor', `${describe(typeOf(json.post_processor))} is not supported with WordPiece (only [CLS] … [SEP] by TemplateProcessing or BertProcessing)`);
  if (!['WordPiece', null].includes(typeOf(json.decoder) as string | null)) fail('decoder', `${describe(typeOf(json.decoder))} is not supported with WordPiece (only WordPiece or none)`);
  if ((model.unk_token ?? '[UNK]') !== '[UNK]') fail('model WordPiece', `unk_token ${describe(model.unk_token)} is not supported (tsgrad's is [UNK])`);
  if ((model.continuing_subword_prefix ?? '##') !== '##') fail('model WordPiece', `continuing_subword_prefix ${describe(model.continuing_subword_prefix)} is not supported (tsgrad's is ##)`);
  const maxChars = model.max_input_chars_per_word ?? 100;
  if (!isMaxInputChars(maxChars)) fail('model WordPiece', `field max_input_chars_per_word must be an integer in [0, ${MAX_INPUT_CHARS_PER_WORD}] (got ${describe(maxChars)})`);
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(vocabObject(model, fail))) byId.set(id, token);
  for (const { content, id } of added) {
    if (!(BERT_SPECIAL_TOKENS as readonly string[]).includes(content)) fail(`added_tokens (${describe(content)})`, `is not one of tsgrad's BERT special tokens (${BERT_SPECIAL_TOKENS.join(' ')})`);
    if (byId.get(id) !== undefined && byId.get(id) !== content) fail(`added_tokens (${describe(content)})`, `has id ${id}, which the vocab gives to ${describe(byId.get(id))}`);
    byId.set(id, content);
  }
  const vocab: string[] = [];
  for (let id = 0; id < byId.size; id++) {
    const token = byId.get(id);
    if (token === undefined) fail('model WordPiece', `vocab has no token with id ${id} (ids must be 0 … ${byId.size - 1}, as the lines of vocab.txt)`);
    vocab.push(token!);
  }
  return new WordPieceTokenizer(vocab, { ...bert, nfc, maxInputCharsPerWord: maxChars as number });
}

/** BertNormalizer, alone (Hugging Face's BERT files) or after NFC (what tsgrad writes when it keeps accents). */
function bertNormalizer(normalizer: unknown, fail: Fail): { nfc: boolean; bert: { lowercase: boolean; stripAccents: boolean; tokenizeChineseChars: boolean } } {
  let n = normalizer as Json | null;
  let nfc = false;
  if (typeOf(n) === 'Sequence') {
    const list = n!.normalizers as Json[] | undefined;
    if (!Array.isArray(list) || list.length !== 2 || typeOf(list[0]) !== 'NFC' || typeOf(list[1]) !== 'BertNormalizer') {
      fail('normalizer Sequence', `of ${describe(Array.isArray(list) ? list.map(typeOf) : list)} is not supported (only BertNormalizer, or NFC then BertNormalizer)`);
    }
    [nfc, n] = [true, list![1]];
  }
  if (typeOf(n) !== 'BertNormalizer') fail('normalizer', `${describe(typeOf(n))} is not supported with WordPiece (only BertNormalizer, as BERT)`);
  if (n!.clean_text === false) fail('normalizer BertNormalizer', 'clean_text false is not supported');
  const lowercase = n!.lowercase ?? true;
  const strip = n!.strip_accents ?? lowercase; // null: follow lowercase, as BERT
  const chinese = n!.handle_chinese_chars ?? true;
  for (const [name, v] of [['lowercase', lowercase], ['strip_accents', strip], ['handle_chinese_chars', chinese]] as const) {
    if (typeof v !== 'boolean') fail('normalizer BertNormalizer', `${name} must be a boolean or null (got ${describe(v)})`);
  }
  return { nfc, bert: { lowercase: lowercase as boolean, stripAccents: strip as boolean, tokenizeChineseChars: chinese as boolean } };
}
