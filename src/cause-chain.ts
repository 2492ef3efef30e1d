// An error and what it wraps (GraphQLError.originalError, Error.cause), outermost first, at most 8 deep.
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 8; ) {
    chain.push(current);
    const next = (current as { originalError?: unknown; cause?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}
