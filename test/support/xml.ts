import { strict as assert } from 'node:assert';
import { SaxesParser } from 'saxes';

/** An element of a parsed XML document, for assertions on feeds. */
export interface XmlElement {
  name: string;
  uri: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses with namespaces on; saxes throws on anything ill-formed, including illegal characters. */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const document: XmlElement = { name: '#document', uri: '', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [document];
  const top = (): XmlElement => stack[stack.length - 1] ?? document;
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('opentag', (tag) => {
    const attributes = Object.fromEntries(Object.entries(tag.attributes).map(([k, a]) => [k, a.value]));
    const element: XmlElement = { name: tag.name, uri: tag.uri, attributes, children: [], text: '' };
    top().children.push(element);
    stack.push(element);
  });
  parser.on('text', (text) => {
    top().text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  const root = document.children[0];
  assert.ok(root, 'document has a root element');
  return root;
}

/** The element's children with this name. */
export function all(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The element's only child with this name; fails when there is not exactly one. */
export function one(element: XmlElement, name: string): XmlElement {
  const found = all(element, name);
  assert.equal(found.length, 1, `exactly one <${name}> in <${element.name}>`);
  return found[0] as XmlElement;
}
