/**
 * Every YAML and JSON file under deploy/ parses (duplicate keys refused), except the Helm
 * templates, which are Go templates and are checked by helm.test.ts instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listFiles, parseYaml, readRepo } from './support.ts';

const files = listFiles('deploy').filter((f) => !f.startsWith('deploy/helm/apfsds/templates/'));

describe('deploy/ YAML and JSON artifacts', () => {
  const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
  const jsonFiles = files.filter((f) => f.endsWith('.json'));

  it('include the compose files, chart, prometheus and grafana files', () => {
    for (const f of [
      'deploy/compose/docker-compose.all-in-one.yaml',
      'deploy/compose/docker-compose.split.yaml',
      'deploy/helm/apfsds/Chart.yaml',
      'deploy/helm/apfsds/values.yaml',
      'deploy/prometheus/prometheus.yml',
      'deploy/prometheus/alerts.yml',
      'deploy/grafana/dashboards/apfsds.json',
    ]) {
      assert.ok(files.includes(f), `${f} is missing`);
    }
  });

  for (const file of yamlFiles) {
    it(`${file} is valid YAML with a mapping at the top`, () => {
      const doc = parseYaml(readRepo(file), file);
      assert.equal(typeof doc, 'object', file);
      assert.ok(doc !== null && !Array.isArray(doc), `${file}: expected a mapping at the top level`);
    });
  }

  for (const file of jsonFiles) {
    it(`${file} is valid JSON`, () => {
      assert.doesNotThrow(() => JSON.parse(readRepo(file)) as unknown, file);
    });
  }
});
