// The layer rules of this repository as an ESLint rule (`layers/allowed-imports`), so that an import crossing a layer
// the wrong way fails `npm run lint` (CONTRIBUTING.md, "Layers"). Each file belongs to the first layer whose folder
// holds it; it may import files of the layers listed in `may` and the npm packages listed in `packages` (Node's
// own modules are allowed everywhere). Code outside these layers (tests, harness, e2e, bench, scripts) may import
// anything.
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Folders (or files) of the product, in the order they are matched (most specific first). */
export const LAYERS = [
	{
		name: 'core',
		folder: 'core/',
		why: 'the core knows nothing of n8n, of the editions or of the nodes',
		may: ['core/'],
		packages: [],
	},
	{
		name: 'the edition interface',
		folder: 'editions/edition.ts',
		why: 'the interface both editions implement and the nodes call reads the core only',
		may: ['core/'],
		packages: ['n8n-workflow'],
	},
	{
		name: 'the main edition',
		folder: 'editions/main/',
		why: 'an edition adapts the core to one package: core, the edition interface and its own folder',
		may: ['core/', 'editions/edition.ts', 'editions/main/'],
		packages: ['n8n-workflow'],
	},
	{
		name: 'the queue edition',
		folder: 'editions/queue/',
		why: 'an edition adapts the core to one package: core, the edition interface and its own folder',
		may: ['core/', 'editions/edition.ts', 'editions/queue/'],
		packages: ['n8n-workflow', 'undici', 'ioredis', 'zod'],
	},
	{
		name: "the main package's node entry files",
		folder: /^nodes\/[^/]+\/[^/]+\.node\.ts$/,
		why: "a node's entry file wires its own node to the main edition",
		may: ['core/', 'editions/edition.ts', 'editions/main/', 'nodes/shared/', 'nodes/<same node>/'],
		packages: ['n8n-workflow'],
	},
	{
		name: 'nodes/shared',
		folder: 'nodes/shared/',
		why: 'what both nodes share reads the core and the edition interface only',
		may: ['core/', 'editions/edition.ts', 'nodes/shared/'],
		packages: ['n8n-workflow'],
	},
	{
		name: 'a node',
		folder: /^nodes\/[^/]+\//,
		why: 'a node describes and calls the core through the edition interface; what two nodes share lives in core/ or nodes/shared/',
		may: ['core/', 'editions/edition.ts', 'nodes/shared/', 'nodes/<same node>/'],
		packages: ['n8n-workflow', 'zod'],
	},
	{
		name: 'credentials',
		folder: 'credentials/',
		why: 'a credential reads the core and the fields the nodes share',
		may: ['core/', 'nodes/shared/', 'credentials/'],
		packages: ['n8n-workflow'],
	},
	{
		name: "the queue package's entry files",
		folder: 'queue/',
		why: 'the queue package wires the same nodes and credentials to the queue edition',
		may: ['core/', 'editions/edition.ts', 'editions/queue/', 'nodes/', 'credentials/', 'queue/'],
		packages: ['n8n-workflow'],
	},
	{
		name: 'the simulator',
		folder: 'simulator/',
		why: "the simulator stands in for Studio: it may read Studio's contract in core/, never the package's code",
		may: ['core/studioApi.ts', 'simulator/'],
		packages: ['jsonwebtoken', 'undici'],
	},
];

const toPosix = (path) => path.split(sep).join('/');

function layerOf(file) {
	return LAYERS.find((layer) =>
		typeof layer.folder === 'string'
			? layer.folder.endsWith('/')
				? file.startsWith(layer.folder)
				: file === layer.folder
			: layer.folder.test(file),
	);
}

function allowedTarget(layer, file, target) {
	const node = /^nodes\/([^/]+)\//.exec(file)?.[1];
	return layer.may.some((entry) => {
		const allowed = entry.replace('<same node>', node ?? '\0');
		// A folder's index is imported by the folder's name.
		return allowed.endsWith('/')
			? target.startsWith(allowed) || `${target}/` === allowed
			: target === allowed || `${target}.ts` === allowed;
	});
}

function packageName(specifier) {
	const parts = specifier.split('/');
	return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const allowedImports = {
	meta: {
		type: 'problem',
		docs: { description: "Imports follow the repository's layers (core ← editions ← nodes; see CONTRIBUTING.md)." },
		schema: [],
	},
	create(context) {
		const filename = context.filename ?? context.getFilename();
		const file = toPosix(relative(ROOT, isAbsolute(filename) ? filename : join(ROOT, filename)));
		const layer = layerOf(file);
		if (!layer) return {};
		const check = (node, specifier) => {
			if (typeof specifier !== 'string') return;
			if (specifier.startsWith('.')) {
				const target = toPosix(normalize(join(dirname(file), specifier)));
				if (allowedTarget(layer, file, target)) return;
				context.report({
					node,
					message: `${file} (${layer.name}) may not import ${target}: ${layer.why}. See CONTRIBUTING.md, "Layers".`,
				});
				return;
			}
			if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return;
			const name = packageName(specifier);
			if (layer.packages.includes(name)) return;
			context.report({
				node,
				message: `${file} (${layer.name}) may not import the package ${name}: ${layer.why}. See CONTRIBUTING.md, "Layers".`,
			});
		};
		return {
			ImportDeclaration: (node) => check(node, node.source.value),
			ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
			ExportAllDeclaration: (node) => check(node, node.source.value),
			ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
			CallExpression: (node) => {
				if (
					node.callee.type === 'Identifier' &&
					node.callee.name === 'require' &&
					node.arguments[0]?.type === 'Literal'
				)
					check(node, node.arguments[0].value);
			},
		};
	},
};

export const layersPlugin = { rules: { 'allowed-imports': allowedImports } };
