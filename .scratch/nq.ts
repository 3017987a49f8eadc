import { fillParams, findNamedQuery } from '../lib/catalog';
const q = findNamedQuery('solar-per-minute');
console.log(fillParams(q.sql, q.params, { from: '2026-06-01', to: '2026-06-01' }));
