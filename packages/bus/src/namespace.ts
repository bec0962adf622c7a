/**
 * Namespaces let several CodeMaestro installations (or test runs) share one NATS server:
 * every subject gets a prefix and every stream and consumer name a matching prefix. The
 * default namespace is empty, so production subjects are exactly those of the catalogue.
 */

/** Maps catalogue names to the names used on the server, and back. */
export interface Namespace {
  readonly name: string;
  subject(subject: string): string;
  /** The catalogue subject for a subject seen on the server. */
  unprefix(subject: string): string;
  stream(name: string): string;
  consumer(name: string): string;
}

/** Creates a namespace; `name` may hold letters, digits, `-` and `_`. */
export function createNamespace(name: string): Namespace {
  if (name === '') return rootNamespace;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid bus namespace "${name}": use letters, digits, - and _`);
  const subjectPrefix = `${name}.`;
  const namePrefix = `${name.toUpperCase().replace(/-/g, '_')}_`;
  return {
    name,
    subject: (s) => `${subjectPrefix}${s}`,
    unprefix: (s) => (s.startsWith(subjectPrefix) ? s.slice(subjectPrefix.length) : s),
    stream: (n) => `${namePrefix}${n}`,
    consumer: (n) => `${namePrefix}${n}`,
  };
}

/** The empty namespace: names as in the catalogue. */
export const rootNamespace: Namespace = {
  name: '',
  subject: (s) => s,
  unprefix: (s) => s,
  stream: (n) => n,
  consumer: (n) => n,
};
