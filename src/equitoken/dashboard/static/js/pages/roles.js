// Who may open which page (the API enforces the same rules; this only keeps the menus honest).

export const OPERATOR = ["operator"];
export const INVESTORS = ["participant", "investor"];
export const EVERYONE = ["operator", "participant", "investor"];
export const PARTICIPANTS = ["operator", "participant"];
