/** Bad input to the cost model (unknown workload or region, missing cdk.out, negative counts): one line for the user. */
export class CostInputError extends Error {
  override readonly name = 'CostInputError';
}
