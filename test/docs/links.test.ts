// The README and docs/ point at files that exist: every relative markdown link, and every file
// name ending in .md that the text mentions (found next to the page, at the root, or in docs/).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = process.cwd();
const pages = ['README.md', 'bench/README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('docs: links and file names resolve', () => {
  for (const page of pages) {
    it(page, () => {
      const text = fs.readFileSync(path.join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
      const dir = path.dirname(page);
      const missing: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
        if (!fs.existsSync(path.join(root, dir, target))) missing.push(`link ${target}`);
      }
      for (const [, name] of text.replace(/\]\([^)]*\)/g, ']').matchAll(/(?<![\w/.-])([\w./-]+\.md)\b/g)) {
        if (![path.join(dir, name), name, path.join('docs', name)].some((p) => fs.existsSync(path.join(root, p)))) missing.push(`mention ${name}`);
      }
      expect(missing, `${page} points at files that do not exist`).to.deep.equal([]);
    });
  }
});
