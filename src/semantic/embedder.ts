/**
 * What turns text into vectors. Every embedder gives unit-length Float32
 * vectors of a fixed length, so cosine similarity is a dot product and the
 * ANN index can use inner-product distance. Selected by EMBEDDER
 * (docs/decisions/013-semantic-search.md).
 */

/** Documents are papers (title and abstract); queries are what people type. Some models embed them differently. */
export type EmbedKind = 'document' | 'query';

export interface Embedder {
  /** The EMBEDDER value that made it: `builtin`, `onnx:<dir>` or `openai:<url>`. */
  readonly name: string;
  /** Identifies the model: vectors from embedders with equal fingerprints are comparable. */
  readonly fingerprint: string;
  readonly dimensions: number;
  /** One unit-length vector per text, in order. Rejects (never returns partial results) on failure. */
  embed(texts: readonly string[], kind: EmbedKind, signal?: AbortSignal): Promise<Float32Array[]>;
}

/** The text a paper is embedded from: title, then abstract (plain text, TeX stripped). */
export function documentText(title: string, abstract: string): string {
  return `${title.trim()}\n\n${abstract.trim()}`;
}

/** Scales a vector to unit length in place (a zero vector stays zero); returns it. */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * inv;
  }
  return vector;
}

/** Dot product; the cosine similarity of unit vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}
