/**
 * A small Go text/template interpreter with the Sprig functions the apfsds chart uses, so the
 * chart can be rendered and its output checked on a machine without Helm. It follows Helm's
 * choices: missing map keys are nil (missingkey=zero, printed as ""), a field of nil is an
 * error, `include` renders a define, `required`/`fail` throw. It is deliberately strict: an
 * unknown function or construct throws instead of guessing, so a chart change that needs more
 * of the language shows up as a test failure here rather than a silent difference from Helm.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;
type Scope = Map<string, Value>;

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string[] }
  | { t: 'var'; name: string; fields: string[] }
  | { t: 'punct'; v: '(' | ')' | '|' | ':=' | '=' | ',' };

type Operand =
  | { k: 'lit'; v: Value }
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'sub'; pipe: Pipeline };
type Command = Operand[];
type Pipeline = { decl?: { names: string[]; assign: boolean }; cmds: Command[] };

type Node =
  | { n: 'text'; v: string }
  | { n: 'out'; pipe: Pipeline }
  | { n: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { n: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { n: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { n: 'template'; name: string; pipe: Pipeline | undefined };

/** Raised for template errors; `message` names the template. */
export class TemplateError extends Error {}

// ---- lexing ------------------------------------------------------------------------------

type Piece = { kind: 'text'; v: string } | { kind: 'action'; v: string };

function split(src: string, name: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ kind: 'text', v: text });
      break;
    }
    let j = open + 2;
    const trimLeft = src.startsWith('- ', j) || src.startsWith('-\n', j);
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push({ kind: 'text', v: text });
    if (trimLeft) j += 1;
    let k = j;
    let quote: string | undefined;
    for (; k < src.length; k++) {
      const c = src[k];
      if (quote !== undefined) {
        if (c === '\\' && quote === '"') k++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`') quote = c;
      else if (src.startsWith('/*', k)) {
        const endComment = src.indexOf('*/', k + 2);
        if (endComment < 0) throw new TemplateError(`${name}: unclosed comment`);
        k = endComment + 1;
      } else if (src.startsWith('}}', k)) break;
    }
    if (k >= src.length) throw new TemplateError(`${name}: unclosed action at offset ${open}`);
    let body = src.slice(j, k);
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    body = body.trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ kind: 'action', v: body });
    i = k + 2;
  }
  return out;
}

function tokenize(src: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  const fieldChain = (start: number): [string[], number] => {
    const path: string[] = [];
    let p = start;
    while (src[p] === '.') {
      ident.lastIndex = p + 1;
      const m = ident.exec(src);
      if (m === null) break;
      path.push(m[0]);
      p = ident.lastIndex;
    }
    return [path, p];
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\') {
          j++;
          const e = src[j];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : (e ?? '');
        } else s += src[j];
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      out.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9-]/.test(c) && /[0-9]/.test(src[c === '-' ? i + 1 : i] ?? '')) {
      const m = /-?[0-9]+(\.[0-9]+)?/y;
      m.lastIndex = i;
      const r = m.exec(src)!;
      out.push({ t: 'num', v: Number(r[0]) });
      i = m.lastIndex;
    } else if (c === '.') {
      const [path, next] = fieldChain(i);
      out.push({ t: 'field', v: path });
      i = path.length === 0 ? i + 1 : next;
    } else if (c === '$') {
      ident.lastIndex = i + 1;
      const m = ident.exec(src);
      const name = m === null ? '$' : `$${m[0]}`;
      const [fields, next] = fieldChain(m === null ? i + 1 : ident.lastIndex);
      out.push({ t: 'var', name, fields });
      i = next;
    } else if (src.startsWith(':=', i)) {
      out.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if ('()|=,'.includes(c)) {
      out.push({ t: 'punct', v: c as '(' | ')' | '|' | '=' | ',' });
      i++;
    } else {
      ident.lastIndex = i;
      const m = ident.exec(src);
      if (m === null) throw new TemplateError(`${where}: unexpected "${c}" in {{ ${src} }}`);
      out.push({ t: 'ident', v: m[0] });
      i = ident.lastIndex;
    }
  }
  return out;
}

// ---- parsing -----------------------------------------------------------------------------

function parsePipeline(tokens: Token[], where: string): Pipeline {
  let pos = 0;
  const pipe: Pipeline = { cmds: [] };
  // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
  const names: string[] = [];
  let p = 0;
  while (tokens[p]?.t === 'var' && (tokens[p] as { fields: string[] }).fields.length === 0) {
    names.push((tokens[p] as { name: string }).name);
    const next = tokens[p + 1];
    if (next?.t === 'punct' && next.v === ',') p += 2;
    else {
      p += 1;
      break;
    }
  }
  const op = tokens[p];
  if (names.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
    pipe.decl = { names, assign: op.v === '=' };
    pos = p + 1;
  }
  const parseCmds = (until: number): Command[] => {
    const cmds: Command[] = [];
    let cmd: Command = [];
    while (pos < until) {
      const tok = tokens[pos]!;
      if (tok.t === 'punct' && tok.v === '|') {
        cmds.push(cmd);
        cmd = [];
        pos++;
      } else if (tok.t === 'punct' && tok.v === '(') {
        let depth = 1;
        let end = pos + 1;
        for (; end < until && depth > 0; end++) {
          const e = tokens[end]!;
          if (e.t === 'punct' && e.v === '(') depth++;
          if (e.t === 'punct' && e.v === ')') depth--;
        }
        if (depth !== 0) throw new TemplateError(`${where}: unbalanced parentheses`);
        cmd.push({ k: 'sub', pipe: parsePipeline(tokens.slice(pos + 1, end - 1), where) });
        pos = end;
      } else if (tok.t === 'str' || tok.t === 'num') {
        cmd.push({ k: 'lit', v: tok.v });
        pos++;
      } else if (tok.t === 'ident') {
        if (tok.v === 'true' || tok.v === 'false') cmd.push({ k: 'lit', v: tok.v === 'true' });
        else if (tok.v === 'nil') cmd.push({ k: 'lit', v: null });
        else cmd.push({ k: 'fn', name: tok.v });
        pos++;
      } else if (tok.t === 'field') {
        cmd.push({ k: 'field', path: tok.v });
        pos++;
      } else if (tok.t === 'var') {
        cmd.push({ k: 'var', name: tok.name, path: tok.fields });
        pos++;
      } else throw new TemplateError(`${where}: unexpected token ${JSON.stringify(tok)}`);
    }
    if (cmd.length > 0) cmds.push(cmd);
    return cmds;
  };
  pipe.cmds = parseCmds(tokens.length);
  if (pipe.cmds.length === 0) throw new TemplateError(`${where}: empty pipeline`);
  return pipe;
}

type Frame = { kind: 'root' | 'if' | 'range' | 'with' | 'define'; node?: Node; nodes: Node[]; name?: string };

/** Parses template sources; defines are collected into `defines`. */
function parse(src: string, name: string, defines: Map<string, Node[]>): Node[] {
  const root: Frame = { kind: 'root', nodes: [] };
  const stack: Frame[] = [root];
  const top = (): Frame => stack[stack.length - 1]!;
  for (const piece of split(src, name)) {
    if (piece.kind === 'text') {
      if (piece.v !== '') top().nodes.push({ n: 'text', v: piece.v });
      continue;
    }
    const a = piece.v;
    const word = /^[a-z]+/.exec(a)?.[0];
    const rest = a.slice(word?.length ?? 0);
    const pipeOf = (text: string): Pipeline => parsePipeline(tokenize(text, name), name);
    if (word === 'if') {
      const node: Node = { n: 'if', branches: [{ cond: pipeOf(rest), body: [] }], otherwise: [] };
      top().nodes.push(node);
      stack.push({ kind: 'if', node, nodes: node.branches[0]!.body });
    } else if (word === 'range' || word === 'with') {
      const body: Node[] = [];
      const node = { n: word, pipe: pipeOf(rest), body, otherwise: [] } as Node;
      top().nodes.push(node);
      stack.push({ kind: word, node, nodes: body });
    } else if (word === 'else') {
      const frame = top();
      const node = frame.node;
      if (node === undefined) throw new TemplateError(`${name}: else outside a block`);
      const elseIf = /^\s*if\s/.exec(rest);
      if (elseIf !== null && node.n === 'if') {
        const branch = { cond: pipeOf(rest.slice(elseIf[0].length)), body: [] as Node[] };
        node.branches.push(branch);
        frame.nodes = branch.body;
      } else if (rest.trim() === '' && (node.n === 'if' || node.n === 'range' || node.n === 'with')) {
        frame.nodes = node.otherwise;
      } else throw new TemplateError(`${name}: unsupported else form {{ ${a} }}`);
    } else if (word === 'end') {
      const frame = stack.pop();
      if (frame === undefined || frame.kind === 'root') throw new TemplateError(`${name}: unmatched end`);
      if (frame.kind === 'define') defines.set(frame.name!, frame.nodes);
    } else if (word === 'define') {
      const m = /^\s*"([^"]+)"\s*$/.exec(rest);
      if (m === null) throw new TemplateError(`${name}: bad define {{ ${a} }}`);
      stack.push({ kind: 'define', nodes: [], name: m[1]! });
    } else if (word === 'template') {
      const m = /^\s*"([^"]+)"\s*(.*)$/s.exec(rest);
      if (m === null) throw new TemplateError(`${name}: bad template {{ ${a} }}`);
      top().nodes.push({ n: 'template', name: m[1]!, pipe: m[2]!.trim() === '' ? undefined : pipeOf(m[2]!) });
    } else if (word === 'block' || word === 'break' || word === 'continue') {
      throw new TemplateError(`${name}: {{ ${word} }} is not supported by this renderer`);
    } else {
      top().nodes.push({ n: 'out', pipe: pipeOf(a) });
    }
  }
  if (stack.length !== 1) throw new TemplateError(`${name}: ${stack.length - 1} block(s) not closed with end`);
  return root.nodes;
}

// ---- values ------------------------------------------------------------------------------

const isMap = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go template truth: false, 0, nil, and empty strings, lists and maps are false. */
export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

function show(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  return `map[${Object.keys(v as object).sort().map((k) => `${k}:${show((v as Record<string, Value>)[k])}`).join(' ')}]`;
}

function sortKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function deepCopy(v: Value): Value {
  return v === undefined ? null : (structuredClone(v) as Value);
}

function mergeInto(dst: Record<string, Value>, src: Record<string, Value>): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isMap(cur) && isMap(v)) mergeInto(cur, v);
    else dst[k] = deepCopy(v);
  }
}

function printf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([sdvq%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'd') {
      if (typeof a !== 'number' || !Number.isInteger(a)) return `%!d(${typeof a}=${show(a)})`;
      return String(a);
    }
    if (verb === 'q') return JSON.stringify(show(a));
    return show(a);
  });
}

type Fn = (...args: Value[]) => Value;

// ---- evaluation --------------------------------------------------------------------------

/** A parsed chart: every template file plus the defines they declare. */
export class TemplateSet {
  readonly defines = new Map<string, Node[]>();
  readonly files = new Map<string, Node[]>();
  /** Function names each file calls, for coverage checks. */
  readonly calledFunctions = new Set<string>();

  /** Parses one file; defines become available to every file. */
  add(name: string, src: string): void {
    this.files.set(name, parse(src, name, this.defines));
  }

  /** Renders one file with `data` as both `.` and `$`. */
  render(name: string, data: Value): string {
    const nodes = this.files.get(name);
    if (nodes === undefined) throw new TemplateError(`no template ${name}`);
    return this.exec(nodes, data, [new Map([['$', data]])], name, 0);
  }

  private fns(where: string, depth: number): Record<string, Fn> {
    const str = (v: Value): string => show(v);
    const toInt = (v: Value): number => {
      if (typeof v === 'number') return Math.trunc(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
      if (v === null || v === undefined) return 0;
      throw new TemplateError(`${where}: int of ${show(v)}`);
    };
    return {
      include: (name, data) => {
        const nodes = this.defines.get(str(name));
        if (nodes === undefined) throw new TemplateError(`${where}: include of undefined template "${str(name)}"`);
        if (depth > 50) throw new TemplateError(`${where}: include nesting too deep`);
        return this.exec(nodes, data, [new Map([['$', data]])], `${where} > ${str(name)}`, depth + 1);
      },
      default: (d, ...given) => (given.length > 0 && truthy(given[0]) ? given[0] : d),
      required: (msg, v) => {
        if (v === null || v === undefined || v === '') throw new TemplateError(`required: ${str(msg)}`);
        return v;
      },
      fail: (msg) => {
        throw new TemplateError(`fail: ${str(msg)}`);
      },
      printf: (f, ...args) => printf(str(f), args),
      print: (...args) => args.map(show).join(''),
      trunc: (n, s) => str(s).slice(0, toInt(n)),
      trimSuffix: (suffix, s) => (str(s).endsWith(str(suffix)) ? str(s).slice(0, str(s).length - str(suffix).length) : str(s)),
      contains: (sub, s) => str(s).includes(str(sub)),
      replace: (from, to, s) => str(s).split(str(from)).join(str(to)),
      lower: (s) => str(s).toLowerCase(),
      quote: (...args) => args.map((a) => JSON.stringify(show(a))).join(' '),
      toString: (v: Value) => show(v),
      toYaml: (v) => (v === null || v === undefined ? 'null' : stringify(sortKeys(v), { lineWidth: 0 }).replace(/\n$/, '')),
      indent: (n, s) => str(s).split('\n').map((l) => ' '.repeat(toInt(n)) + l).join('\n'),
      nindent: (n, s) => `\n${str(s).split('\n').map((l) => ' '.repeat(toInt(n)) + l).join('\n')}`,
      int: toInt,
      sub: (a, b) => toInt(a) - toInt(b),
      dict: (...kv) => {
        const out: Record<string, Value> = {};
        for (let i = 0; i < kv.length; i += 2) out[str(kv[i])] = kv[i + 1] ?? null;
        return out;
      },
      set: (m, k, v) => {
        if (!isMap(m)) throw new TemplateError(`${where}: set on a non-map`);
        m[str(k)] = v;
        return m;
      },
      hasKey: (m, k) => isMap(m) && Object.prototype.hasOwnProperty.call(m, str(k)),
      list: (...items) => items,
      append: (l, v) => {
        if (!Array.isArray(l)) throw new TemplateError(`${where}: append to a non-list`);
        return [...l, v];
      },
      concat: (...lists) => lists.flatMap((l) => {
        if (l === null || l === undefined) return [];
        if (!Array.isArray(l)) throw new TemplateError(`${where}: concat of a non-list`);
        return l;
      }),
      until: (n) => Array.from({ length: toInt(n) }, (_v, i) => i),
      eq: (a, ...bs) => bs.some((b) => a === b),
      ne: (a, b) => a !== b,
      not: (v) => !truthy(v),
      and: (...vs) => vs.find((v) => !truthy(v)) ?? vs[vs.length - 1],
      or: (...vs) => vs.find((v) => truthy(v)) ?? vs[vs.length - 1],
      ternary: (t, f, cond) => (truthy(cond) ? t : f),
      empty: (v) => !truthy(v),
      mergeOverwrite: (dst, ...srcs) => {
        if (!isMap(dst)) throw new TemplateError(`${where}: mergeOverwrite into a non-map`);
        for (const s of srcs) if (isMap(s)) mergeInto(dst, s);
        return dst;
      },
      deepCopy: (v) => deepCopy(v),
      sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    };
  }

  private exec(nodes: Node[], dot: Value, scopes: Scope[], where: string, depth: number): string {
    let out = '';
    for (const node of nodes) {
      switch (node.n) {
        case 'text':
          out += node.v;
          break;
        case 'out': {
          const v = this.pipeline(node.pipe, dot, scopes, where, depth);
          if (node.pipe.decl === undefined) out += show(v);
          break;
        }
        case 'if': {
          const branch = node.branches.find((b) => truthy(this.pipeline(b.cond, dot, [...scopes, new Map()], where, depth)));
          out += this.exec(branch?.body ?? node.otherwise, dot, [...scopes, new Map()], where, depth);
          break;
        }
        case 'with': {
          const v = this.pipeline(node.pipe, dot, scopes, where, depth);
          out += truthy(v) ? this.exec(node.body, v, [...scopes, new Map()], where, depth) : this.exec(node.otherwise, dot, [...scopes, new Map()], where, depth);
          break;
        }
        case 'range': {
          const decl = node.pipe.decl;
          const pipe: Pipeline = { cmds: node.pipe.cmds };
          const v = this.pipeline(pipe, dot, scopes, where, depth);
          const items: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : isMap(v)
              ? Object.keys(v).sort().map((k) => [k, v[k]])
              : v === null || v === undefined
                ? []
                : (() => {
                    throw new TemplateError(`${where}: range over ${show(v)}`);
                  })();
          if (items.length === 0) {
            out += this.exec(node.otherwise, dot, [...scopes, new Map()], where, depth);
            break;
          }
          for (const [key, item] of items) {
            const scope: Scope = new Map();
            if (decl !== undefined) {
              if (decl.names.length === 1) scope.set(decl.names[0]!, item);
              else {
                scope.set(decl.names[0]!, key);
                scope.set(decl.names[1]!, item);
              }
            }
            out += this.exec(node.body, item, [...scopes, scope], where, depth);
          }
          break;
        }
        case 'template': {
          const data = node.pipe === undefined ? null : this.pipeline(node.pipe, dot, scopes, where, depth);
          out += show(this.fns(where, depth)['include']!(node.name, data));
          break;
        }
      }
    }
    return out;
  }

  private lookupVar(name: string, scopes: Scope[], where: string): Value {
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.has(name)) return scopes[i]!.get(name);
    throw new TemplateError(`${where}: undefined variable ${name}`);
  }

  private walk(base: Value, path: string[], where: string, label: string): Value {
    let v = base;
    for (const [i, key] of path.entries()) {
      if (v === null || v === undefined) {
        throw new TemplateError(`${where}: nil pointer evaluating ${label}.${path.slice(0, i + 1).join('.')}`);
      }
      if (!isMap(v)) throw new TemplateError(`${where}: can't evaluate field ${key} in ${label}.${path.slice(0, i).join('.')}`);
      v = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : null;
    }
    return v;
  }

  private operand(op: Operand, dot: Value, scopes: Scope[], where: string, depth: number): Value {
    switch (op.k) {
      case 'lit':
        return op.v;
      case 'field':
        return this.walk(dot, op.path, where, '');
      case 'var':
        return this.walk(this.lookupVar(op.name, scopes, where), op.path, where, op.name);
      case 'sub':
        return this.pipeline(op.pipe, dot, scopes, where, depth);
      case 'fn':
        throw new TemplateError(`${where}: function ${op.name} used as a value`);
    }
  }

  private pipeline(pipe: Pipeline, dot: Value, scopes: Scope[], where: string, depth: number): Value {
    let piped: Value = undefined;
    let first = true;
    for (const cmd of pipe.cmds) {
      const head = cmd[0]!;
      if (head.k === 'fn') {
        const fn = this.fns(where, depth)[head.name];
        if (fn === undefined) throw new TemplateError(`${where}: function "${head.name}" not defined (or not supported here)`);
        this.calledFunctions.add(head.name);
        const args = cmd.slice(1).map((o) => this.operand(o, dot, scopes, where, depth));
        if (!first) args.push(piped);
        piped = fn(...args);
      } else {
        if (cmd.length > 1) throw new TemplateError(`${where}: can't give arguments to a non-function`);
        if (!first) throw new TemplateError(`${where}: can't pipe into a non-function`);
        piped = this.operand(head, dot, scopes, where, depth);
      }
      first = false;
    }
    if (pipe.decl !== undefined) {
      const name = pipe.decl.names[0]!;
      if (pipe.decl.assign) {
        const scope = [...scopes].reverse().find((s) => s.has(name));
        if (scope === undefined) throw new TemplateError(`${where}: assignment to undeclared ${name}`);
        scope.set(name, piped);
      } else scopes[scopes.length - 1]!.set(name, piped);
    }
    return piped;
  }
}
