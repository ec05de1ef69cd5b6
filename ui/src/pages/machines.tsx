// The front page: state machines (pipelines among them) and the schedules that start them.
import { getJson, machinePath, sfn, type Schedule, type StateMachineItem } from "../api";
import { formatTime } from "../history";
import { ErrorNote, Section, useLoad } from "../widgets";

export function MachinesPage() {
  const machines = useLoad(async () => {
    const all: StateMachineItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn<{ stateMachines: StateMachineItem[]; nextToken?: string }>("ListStateMachines", {
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      });
      all.push(...page.stateMachines);
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  }, []);
  const schedules = useLoad(() => getJson<{ Schedules: Schedule[] }>("/schedules?MaxResults=100"), []);
  return (
    <>
      <h1>State machines</h1>
      <ErrorNote error={machines.error} />
      {machines.data && machines.data.length === 0 ? (
        <p class="muted">
          Nothing deployed yet. Deploy a pipeline with <code>zflow deploy --local pipeline.yaml</code>, or create a
          state machine with <code>aws stepfunctions create-state-machine --endpoint-url {location.origin}</code>.
        </p>
      ) : null}
      {machines.data && machines.data.length > 0 ? (
        <table class="list" data-testid="machines">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {machines.data.map((m) => (
              <tr key={m.stateMachineArn}>
                <td>
                  <a href={machinePath(m.name)}>{m.name}</a>
                </td>
                <td>{m.type}</td>
                <td>{formatTime(m.creationDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Section title="Schedules" id="schedules">
        <ErrorNote error={schedules.error} />
        {schedules.data && schedules.data.Schedules.length === 0 ? <p class="muted">No schedules.</p> : null}
        {schedules.data && schedules.data.Schedules.length > 0 ? (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Schedule</th>
                <th scope="col">State</th>
                <th scope="col">Starts</th>
              </tr>
            </thead>
            <tbody>
              {schedules.data.Schedules.map((s) => (
                <tr key={s.Name}>
                  <td>{s.Name}</td>
                  <td>{s.State}</td>
                  <td>
                    <a href={machinePath(s.Target.Arn)}>{s.Target.Arn.split(":").pop()}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}
