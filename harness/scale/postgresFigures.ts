// What n8n keeps of its executions in PostgreSQL, for the scale benchmarks: rows and on-disk sizes of its execution
// tables, and how many executions of a workflow are in each status.
import type { PostgresServer } from '../n8n/postgres';

export interface ExecutionRows {
	/** Rows of execution_entity (one per execution) and execution_data (its data). */
	executions: number;
	executionData: number;
	/** Bytes on disk of each execution table, indexes and TOAST included. */
	tableBytes: Record<string, number>;
	databaseBytes: number;
}

export async function executionRows(postgres: PostgresServer): Promise<ExecutionRows> {
	const [counts] = await postgres.query(
		'select (select count(*) from execution_entity), (select count(*) from execution_data), pg_database_size(current_database())',
	);
	const [executions, executionData, databaseBytes] = counts.split('|').map(Number);
	const tables = await postgres.query(
		"select relname, pg_total_relation_size(relid) from pg_stat_user_tables where relname like 'execution%' order by relname",
	);
	const tableBytes = Object.fromEntries(
		tables.map((line) => line.split('|')).map(([name, bytes]) => [name, Number(bytes)]),
	);
	return { executions, executionData, tableBytes, databaseBytes };
}

export async function executionStatuses(postgres: PostgresServer, workflowId: string): Promise<Record<string, number>> {
	const rows = await postgres.query(
		`select status, count(*) from execution_entity where "workflowId" = '${workflowId}' group by status order by status`,
	);
	return Object.fromEntries(rows.map((line) => line.split('|')).map(([status, count]) => [status, Number(count)]));
}
