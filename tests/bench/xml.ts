// A strict, small XML parser for the tests: enough of XML 1.0 to check that
// the harness's SVG is well-formed (one root, nested tags, quoted unique
// attributes, known entities, no stray '<' or '&') and to walk it.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside this element, entities decoded. */
  text: string;
}

export class XmlError extends Error {}

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(raw: string, at: number): string {
  if (raw.includes("<")) throw new XmlError(`'<' in text or attribute near offset ${at}`);
  return raw.replace(/&([^;&\s]*);?/g, (match, body: string) => {
    if (!match.endsWith(";")) throw new XmlError(`unterminated entity near offset ${at}`);
    if (body.startsWith("#x")) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith("#")) return String.fromCodePoint(parseInt(body.slice(1), 10));
    const e = ENTITIES[body];
    if (e === undefined) throw new XmlError(`unknown entity &${body}; near offset ${at}`);
    return e;
  });
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i])) i++;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith("<!--", i)) {
        const end = source.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        i = end + 3;
      } else if (source.startsWith("<?", i)) {
        const end = source.indexOf("?>", i + 2);
        if (end < 0) fail("unterminated processing instruction");
        i = end + 2;
      } else return;
    }
  };
  const name = (): string => {
    const m = NAME.exec(source.slice(i, i + 200));
    if (m === null) return fail("expected a name");
    i += m[0].length;
    return m[0];
  };

  const element = (): XmlElement => {
    if (source[i] !== "<") fail("expected '<'");
    i++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: "" };
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith("/>", i)) {
        i += 2;
        return el;
      }
      if (source[i] === ">") {
        i++;
        break;
      }
      if (i === before) fail("expected whitespace before an attribute");
      const attr = name();
      skipSpace();
      if (source[i] !== "=") fail(`attribute ${attr} has no '='`);
      i++;
      skipSpace();
      const quote = source[i];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
      const end = source.indexOf(quote, i + 1);
      if (end < 0) fail(`attribute ${attr} is not closed`);
      if (attr in el.attrs) fail(`attribute ${attr} repeated`);
      el.attrs[attr] = decode(source.slice(i + 1, end), i);
      i = end + 1;
    }
    for (;;) {
      const next = source.indexOf("<", i);
      if (next < 0) fail(`element <${el.name}> is not closed`);
      el.text += decode(source.slice(i, next), i);
      i = next;
      if (source.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (source[i] !== ">") fail("expected '>'");
        i++;
        return el;
      }
      if (source.startsWith("<!--", i)) {
        const end = source.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        i = end + 3;
        continue;
      }
      if (source.startsWith("<![CDATA[", i)) {
        const end = source.indexOf("]]>", i);
        if (end < 0) fail("unterminated CDATA");
        el.text += source.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      el.children.push(element());
    }
  };

  skipMisc();
  const root = element();
  skipMisc();
  if (i !== source.length) fail("content after the root element");
  return root;
}

/** Every element below (and including) `root`, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}

/** The element's text and all its descendants' text, concatenated. */
export function deepText(el: XmlElement): string {
  return el.text + el.children.map(deepText).join("");
}
