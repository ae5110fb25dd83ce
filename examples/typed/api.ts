// The one declaration both sides share: the state's type and every
// request and notification with its data and result. The server and the
// client below are checked against it; nothing is generated.
export interface Pump {
  rpm: number;
  on: boolean;
}

export interface PlantApi {
  state: { pumps: Record<string, Pump> };
  requests: {
    setRpm: { data: { pump: string; rpm: number }; result: Pump };
    stop: { data: { pump: string }; result: null };
  };
  notifies: { alarm: { pump: string; text: string } };
}
