import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.ts';
import { appendStepSummary, renderMarkdown } from '../../src/report/markdown.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { buildFixtureRun, HOSTILE } from '../fixtures/summaries/build-summary.ts';

let passing: Summary;
let failing: Summary;

beforeAll(async () => {
  passing = (await buildFixtureRun('pass')).summary;
  failing = (await buildFixtureRun('fail')).summary;
});

describe('renderMarkdown', () => {
  it('renders a passing run as its verdict and key figures, with no failure table', () => {
    const md = renderMarkdown(passing);
    expect(md).toMatchSnapshot();
    expect(md).not.toContain('### Failed');
  });

  it('renders a failing run with every failed threshold and verification in one table', () => {
    const md = renderMarkdown(failing);
    expect(md).toMatchSnapshot();
    const table = md.slice(md.indexOf('### Failed'), md.indexOf('### Request failures'));
    const rows = table.split('\n').filter((line) => /^\| (threshold|verification) \|/.test(line));
    expect(rows).toHaveLength(5);
    expect(md).toContain('**The load generator was saturated**');
  });

  it('escapes names and messages so they cannot open HTML, code spans or table cells', () => {
    const md = renderMarkdown(failing);
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<b>');
    expect(md).toContain('&lt;script&gt;');
    // Every row of the failure tables has exactly its columns: no pipe from a message leaked.
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      const cells = line.replace(/\\\|/g, '').split('|').length - 2;
      expect([2, 4], line).toContain(cells);
    }
  });
});

describe('appendStepSummary', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('appends to the GITHUB_STEP_SUMMARY file, keeping what earlier steps wrote', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lp-step-'));
    const file = join(dir, 'step_summary.md');
    await writeFile(file, '# earlier step\n');

    const path = await appendStepSummary({ GITHUB_STEP_SUMMARY: file }, '## launchproof');

    expect(path).toBe(file);
    await expect(readFile(file, 'utf8')).resolves.toBe('# earlier step\n## launchproof\n');
  });

  it('does nothing and returns undefined when GITHUB_STEP_SUMMARY is not set', async () => {
    await expect(appendStepSummary({}, 'text')).resolves.toBeUndefined();
    await expect(appendStepSummary({ GITHUB_STEP_SUMMARY: '' }, 'text')).resolves.toBeUndefined();
  });

  it('fails with LP_ERR_RESULTS_WRITE naming the file when it cannot be written', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lp-step-'));
    const file = join(dir, 'missing-folder', 'summary.md');
    await expect(appendStepSummary({ GITHUB_STEP_SUMMARY: file }, 'x')).rejects.toMatchObject({
      code: 'LP_ERR_RESULTS_WRITE',
      message: expect.stringContaining(file),
    });
  });
});

describe('renderJunit', () => {
  it('renders a passing run as one passing test case per threshold and verification', () => {
    const xml = renderJunit(passing);
    expect(xml).toMatchSnapshot();
    expect(count(xml, '<testcase ')).toBe(passing.thresholds.length + passing.verifications.length);
    expect(count(xml, '<failure ')).toBe(0);
    expect(wellFormed(xml)).toEqual([]);
  });

  it('renders a failing run with a failure per failed case, carrying its evidence', () => {
    const xml = renderJunit(failing);
    expect(xml).toMatchSnapshot();
    expect(xml).toMatch(/<testsuites [^>]*tests="5" failures="5"/);
    expect(count(xml, '<failure ')).toBe(5);
    expect(xml).toContain(
      'sent 100 requests from one IP in 20 s; expected 429s after 20, got 0\n' +
        'body was &lt;b&gt;bold&lt;/b&gt; &amp; ]]&gt; with a `tick` and a | pipe</failure>',
    );
    expect(wellFormed(xml)).toEqual([]);
  });

  it('replaces characters XML 1.0 cannot hold and escapes markup in names', () => {
    const summary: Summary = {
      ...failing,
      scenario: 'odd"<name>',
      verifications: [
        {
          name: 'bell\u0007 and lone \ud800 surrogate',
          ok: false,
          evidence: [HOSTILE.failureMessage],
        },
      ],
    };
    const xml = renderJunit(summary);
    expect(xml).toContain('name="bell\ufffd and lone \ufffd surrogate"');
    expect(xml).toContain('launchproof.odd&quot;&lt;name&gt;.verifications');
    expect(xml).not.toContain('</script>');
    expect(wellFormed(xml)).toEqual([]);
  });
});

describe('the XML well-formedness check used here', () => {
  it('rejects unbalanced tags, bare ampersands, raw < in attributes and control characters', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(wellFormed(`${head}<a><b></a>`)).not.toEqual([]);
    expect(wellFormed(`${head}<a>fish & chips</a>`)).toEqual(['bare & at 47']);
    expect(wellFormed(`${head}<a x="<"/>`)).not.toEqual([]);
    expect(wellFormed(`${head}<a>\u0001</a>`)).toEqual(['forbidden control char']);
    expect(wellFormed(`${head}<a/><b/>`)).toEqual(['2 root elements']);
    expect(wellFormed(`${head}<a x="1" y="&amp;">ok &lt; &#13;</a>`)).toEqual([]);
  });
});

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const NAME = '[A-Za-z_][\\w.-]*';
const ATTRIBUTE = new RegExp(`\\s+(${NAME})="([^"<]*)"`, 'y');
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

/**
 * A small XML 1.0 well-formedness check (no parser is installed): the declaration, then
 * elements whose tags balance, attributes quoted and unique, text and attribute values free
 * of `<` and of `&` outside the five entities and character references, and no character
 * XML forbids. Returns the problems found.
 */
function wellFormed(xml: string): string[] {
  const problems: string[] = [];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(xml)) problems.push('forbidden control char');
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')) problems.push('no declaration');
  const stack: string[] = [];
  let i = xml.indexOf('\n') + 1;
  let roots = 0;
  while (i < xml.length) {
    const c = xml[i];
    if (c === '&') {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(xml)) problems.push(`bare & at ${i}`);
      i++;
    } else if (c !== '<') {
      if (stack.length === 0 && !/\s/.test(c ?? '')) problems.push(`text outside the root at ${i}`);
      i++;
    } else if (xml[i + 1] === '/') {
      const end = xml.indexOf('>', i);
      const name = xml.slice(i + 2, end);
      if (stack.pop() !== name) problems.push(`unbalanced </${name}> at ${i}`);
      i = end + 1;
    } else {
      const nameMatch = new RegExp(NAME, 'y');
      nameMatch.lastIndex = i + 1;
      const name = nameMatch.exec(xml)?.[0];
      if (name === undefined) {
        problems.push(`bad tag at ${i}`);
        break;
      }
      let j = i + 1 + name.length;
      const seen = new Set<string>();
      for (;;) {
        ATTRIBUTE.lastIndex = j;
        const attribute = ATTRIBUTE.exec(xml);
        if (attribute === null) break;
        const [whole, key = '', value = ''] = attribute;
        if (seen.has(key)) problems.push(`duplicate ${key} on <${name}>`);
        seen.add(key);
        if (value.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, '').includes('&')) {
          problems.push(`bare & in ${key} of <${name}>`);
        }
        j += whole.length;
      }
      if (stack.length === 0) roots++;
      if (xml.startsWith('/>', j)) i = j + 2;
      else if (xml[j] === '>') {
        stack.push(name);
        i = j + 1;
      } else {
        problems.push(`unterminated <${name}> at ${i}`);
        break;
      }
    }
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
