/**
 * `code-block`: one code block of a reply — language label, 复制 button, highlighted lines that scroll
 * sideways with their indentation kept.
 *
 * Contract: `lines` is a list of lines of runs (display-block.ts `codeLines`); the copy button puts
 * exactly the block's code on the clipboard (`codeText(lines)`: the lines' text joined with '\n') and
 * confirms with a toast. The page updates `lines` by path keys, so a growing block re-renders one line.
 */
import { copyWithToast } from '../../lib/clipboard.ts';
import { codeText, type Run } from '../markdown-block/display-block.ts';

/** The toast after a code block was copied. */
export const CODE_COPIED = '代码已复制';

Component({
  properties: {
    lang: { type: String, value: '' },
    lines: { type: Array, value: [] },
  },
  methods: {
    onCopy() {
      copyWithToast(codeText(this.data.lines as Run[][]), CODE_COPIED);
    },
  },
});
