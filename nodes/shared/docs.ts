// Where the user documentation lives: every "more in the docs" link of the nodes and credentials starts from this one
// address (the repository's docs/ pages, as GitHub shows them; the npm page shows the README only).
export const DOCS_BASE_URL = 'https://github.com/n8n-nodes-vonage-ai-studio/n8n-nodes-vonage-ai-studio/blob/main/docs';

/** The pages of docs/ that the editor links to. */
export type DocsPage = 'action-node' | 'ai-agents' | 'duplicates-and-crashes' | 'editions' | 'rate-gate';

export function docsUrl(page: DocsPage): string {
	return `${DOCS_BASE_URL}/${page}.md`;
}

/** A link to a docs page for the end of a field's tooltip (n8n shows HTML links there). */
export function docsLink(page: DocsPage, text = 'More in the docs'): string {
	return `<a href="${docsUrl(page)}" target="_blank">${text}</a>`;
}
