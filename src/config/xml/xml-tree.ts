import sax from 'sax';
import { configError } from '../../errors.js';

/** An element of an XML file, by local name (namespaces are ActiveMQ's and Spring's; prefixes are dropped), with where it starts. */
export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
  line: number;
}

const localName = (qualified: string) => qualified.slice(qualified.indexOf(':') + 1);

/**
 * Parses an XML file (sax, strict) into elements with their line numbers;
 * malformed XML is a config error naming the file, line and column.
 */
export function parseXml(text: string, file: string): XmlElement {
  const parser = sax.parser(true, { xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  parser.onopentag = (tag) => {
    const attributes = new Map<string, string>();
    for (const [k, v] of Object.entries(tag.attributes)) if (!k.startsWith('xmlns') && !k.startsWith('xsi:')) attributes.set(localName(k), String(v));
    const element: XmlElement = { name: localName(tag.name), attributes, children: [], text: '', line: parser.line + 1 };
    stack.at(-1)?.children.push(element);
    root ??= element;
    stack.push(element);
  };
  parser.onclosetag = () => void stack.pop();
  parser.ontext = (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  };
  parser.oncdata = parser.ontext;
  try {
    parser.write(text).close();
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw configError('CONFIG_FILE', file, `not valid XML at line ${parser.line + 1}, column ${parser.column + 1}: ${first}`);
  }
  if (!root) throw configError('CONFIG_FILE', file, 'holds no XML element');
  return root;
}
