/** The documentation runner's own rules: how blocks are found and how stated output is matched. */
import { markdownBlocks, outputMismatch, statedOutputOf, type StatedOutput } from './helpers/doc-blocks';

const stated = (text: string, rtol = 1e-6, atol = 0): StatedOutput => ({ text, rtol, atol, line: 1 });

describe('stated output', () => {
  test('numbers match within the relative tolerance, text exactly', () => {
    expect(outputMismatch('loss 1.0000001e-3 after 5 steps', stated('loss 1e-3 after 5 steps'))).toBeNull();
    expect(outputMismatch('loss 1.01e-3 after 5 steps', stated('loss 1e-3 after 5 steps'))).toMatch(/stated: "loss 1e-3 after 5 steps"/);
    expect(outputMismatch('loss 1.01e-3 after 5 steps', stated('loss 1e-3 after 5 steps', 0.02))).toBeNull();
    expect(outputMismatch('Loss 1e-3 after 5 steps', stated('loss 1e-3 after 5 steps'))).not.toBeNull();
    expect(outputMismatch('loss 0.5 after 6 steps', stated('loss 0.5 after 5 steps', 0.1))).not.toBeNull();
    expect(outputMismatch('ratio NaN, 0.25', stated('ratio NaN, 0.25'))).toBeNull();
    expect(outputMismatch('delta 3e-13', stated('delta 0', 1e-6, 1e-12))).toBeNull();
    expect(outputMismatch('784-128-10 net', stated('784-128-10 net'))).toBeNull();
  });

  test('… matches any text within a line, and any lines when alone on one', () => {
    expect(outputMismatch('took 12.5 ms', stated('took … ms'))).toBeNull();
    expect(outputMismatch('a\nb\nc\nend', stated('a\n…\nend'))).toBeNull();
    expect(outputMismatch('a\nend', stated('a\n...\nend'))).toBeNull();
    expect(outputMismatch('a\nb', stated('a\n…\nend'))).toMatch(/stated: "end"/);
  });

  test('missing and extra lines are mismatches; trailing spaces and blank lines are not', () => {
    expect(outputMismatch('a  \nb\n\n', stated('a\nb'))).toBeNull();
    expect(outputMismatch('a', stated('a\nb'))).toMatch(/actual: \(end of output\)/);
    expect(outputMismatch('a\nb', stated('a'))).toMatch(/stated: \(end of output\)/);
  });
});

describe('markdown blocks', () => {
  const md = [
    '# t', '', '```js', 'console.log(1);', '```', '', '```text output rtol=0.1', '1', '```',
    '```ts no-run', 'x', '```', '```sh', 'npm i', '```', '```html browser', '<p>', '```',
  ].join('\n');

  test('finds runnable blocks, their flags and the output that follows', () => {
    const blocks = markdownBlocks(md);
    expect(blocks.map((b) => [b.lang, b.runner, b.noRun, b.line])).toEqual([
      ['js', 'esm', false, 3], ['ts', 'ts', true, 10], ['sh', undefined, false, 13], ['html', 'browser', false, 16],
    ]);
    expect(blocks[0].output).toEqual({ text: '1', rtol: 0.1, atol: 0, line: 8 });
  });

  test('an output block with no runnable block before it, or an unknown option, is an error', () => {
    expect(() => markdownBlocks('```sh\nx\n```\n```text output\n1\n```')).toThrow(/must follow a runnable code block/);
    expect(() => markdownBlocks('```js\nx\n```\nprose\n```text output\n1\n```')).toThrow(/must follow/);
    expect(() => markdownBlocks('```js\nx\n```\n```text output tol=1\n1\n```')).toThrow(/unknown output option/);
    expect(() => markdownBlocks('```js\nx\n')).toThrow(/unclosed/);
  });

  test('example files state their output in a trailing comment', () => {
    expect(statedOutputOf('a.mjs', 'run();\n/* output rtol=0.05\nx 1\n*/\n')).toMatchObject({ text: 'x 1', rtol: 0.05, line: 3 });
    expect(statedOutputOf('a.html', '<p>\n<!-- output\nx\n-->\n</html>\n')).toMatchObject({ text: 'x', rtol: 1e-6 });
    expect(statedOutputOf('a.sh', "natgrad\n: <<'output'\nx\noutput\n")).toMatchObject({ text: 'x' });
    expect(statedOutputOf('a.mjs', 'run();\n')).toBeUndefined();
  });
});
