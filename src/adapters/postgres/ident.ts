/** A PostgreSQL identifier, quoted (a namespace's schema name may hold any character). */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
