/**
 * Model answers as chat models write them — Chinese and English, headings, nested and task lists,
 * tables, code in several languages, quotes, emoji, links — for the Markdown tests and benchmark.
 * Written for this project; each exercises what a real answer mixes together.
 */

export interface CorpusEntry {
  name: string;
  text: string;
}

const ZH_SETUP = `## 在小程序里实现流式输出

要让回复**一边生成一边显示**，需要三步：

1. 服务端用 \`text/event-stream\` 返回数据；
2. 小程序用 \`wx.request({ enableChunked: true })\` 接收分块；
3. 用 *打字机* 的节奏把文字显示出来。

> 注意：iOS 上同一时间只有一个分块请求能收到数据 🙏

### 服务端示例

\`\`\`ts
import Koa from 'koa';

const app = new Koa();
app.use(async (ctx) => {
  ctx.type = 'text/event-stream';
  ctx.body = stream; // 每个事件一行 data:
});
\`\`\`

### 常见问题

| 问题 | 原因 | 解决办法 |
| --- | :---: | ---: |
| 中文乱码 | 分块切断了 UTF-8 字符 | 使用流式解码器 |
| 回复卡顿 | 每个分块都 \`setData\` | 按帧合并更新 |
| 列表闪烁 | 整棵树重新渲染 | 只更新最后一块 |

- 优点：
  - 首字更快 ⚡
  - 体验更好
- 缺点：~~实现简单~~ 需要处理断线重连

更多信息见 [官方文档](https://developers.weixin.qq.com/miniprogram/dev/api/network/request/wx.request.html)。
`;

const EN_PYTHON = `Here's how to read a large CSV file **without loading it all into memory**:

\`\`\`python
import csv

def rows(path):
    """Yield one row at a time."""
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            yield row  # lazily

total = sum(float(r["amount"]) for r in rows("sales.csv"))
print(f"Total: {total:.2f}")
\`\`\`

A few notes:

* \`csv.DictReader\` maps each row to a dict keyed by the header.
* Use \`newline=''\` so embedded newlines in quoted fields work.
  * This matters on **Windows** in particular.
  * See the [csv docs](https://docs.python.org/3/library/csv.html) for details.
* For *really* big files, consider \`pandas.read_csv(..., chunksize=10_000)\`.

---

**Task list**

- [x] Read the file lazily
- [ ] Handle malformed rows
- [ ] Add tests

If you need to go further, <https://pandas.pydata.org> has a guide. Don't use \`eval()\` on input — it's unsafe!
`;

const MIXED = `# Go 与 Java 并发对比 🚀

Go 使用 goroutine，Java 使用线程（或 Java 21 的**虚拟线程**）。

## Go

\`\`\`go
package main

import "fmt"

func main() {
	ch := make(chan int)
	go func() { ch <- 42 }()
	fmt.Println(<-ch)
}
\`\`\`

## Java

\`\`\`java
public class Main {
    public static void main(String[] args) throws Exception {
        Thread t = Thread.ofVirtual().start(() -> System.out.println("hi"));
        t.join();
    }
}
\`\`\`

### 对比

|特性|Go|Java|
|-|-|-|
|轻量线程|goroutine|virtual thread|
|通信|channel|\`BlockingQueue\`|

1. 两者都适合 I/O 密集型任务
2. CPU 密集型任务：
   1. Go 设置 \`GOMAXPROCS\`
   2. Java 使用 \`ForkJoinPool\`

第二段落里有一个脚注式引用[^1]和一个 emoji 组合 👨‍👩‍👧‍👦，以及 snake_case_name 和 2*3*4 这样的写法。

[^1]: 参考 Go 官方博客。

    这是一个缩进代码块
    第二行

Shell 命令：

\`\`\`bash
go run main.go && echo "done" | tee log.txt
\`\`\`

\`\`\`diff
- old line
+ new line
\`\`\`
`;

const HOSTILE_ISH = `Some raw HTML the model echoed: <script>alert('x')</script> and <img src=x onerror=alert(1)>.

<div style="color:red">block html</div>

A [bad link](javascript:alert(1)), a [data link](data:text/html,hi) and a [good one](https://example.com/a_(b)).

An image: ![logo](https://example.com/logo.png "Logo") and an http one: ![x](http://example.com/x.png).

Escapes: \\*not em\\* and \\_not\\_ and 1\\. not a list; entities &amp; &lt;tag&gt; &copy; &#x1F600; &#65;.

Line with hard break  
next line, and a backslash break\\
last line.

Setext heading
==============

Another
-------

***

> Quote with **bold** and a list:
> - one
> - two
>
> > nested quote
`;

export const MARKDOWN_CORPUS: readonly CorpusEntry[] = [
  { name: 'Chinese setup guide with table, lists and TypeScript', text: ZH_SETUP },
  { name: 'English Python answer with nested bullets and tasks', text: EN_PYTHON },
  { name: 'mixed Chinese/English with Go, Java, bash, diff and indented code', text: MIXED },
  { name: 'raw HTML, unsafe links, escapes, entities, setext headings and quotes', text: HOSTILE_ISH },
];
