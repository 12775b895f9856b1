// Loaded by every page: the navigation's current link and who is signed in.

import { initNotificationsLink } from "./notifications-badge.js";
import { initHeader } from "./session.js";

// The notifications link goes into the account slot once initHeader has filled it.
initHeader().then(initNotificationsLink);
