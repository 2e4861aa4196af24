/** Fits the built-in model off the main thread (src/semantic/models.ts fitInWorker); posts the serialized model. */
import { parentPort, workerData } from 'node:worker_threads';
import { fitBuiltinModel, serializeBuiltinModel } from './builtin.js';

const { documents, trainingPairs } = workerData as { documents?: unknown; trainingPairs?: unknown };
if (!Array.isArray(documents) || !documents.every((d) => typeof d === 'string') || !Number.isInteger(trainingPairs)) {
  throw new Error('fit worker: expected { documents: string[], trainingPairs: integer }');
}
parentPort?.postMessage(serializeBuiltinModel(fitBuiltinModel(documents, { trainingPairs: trainingPairs as number })));
