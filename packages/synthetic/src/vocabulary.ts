/** Word lists the generator draws from. Every name and address is synthetic (example.* domains, 555 numbers). */

export const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Amara',
  'Anna',
  'Arjun',
  'Ben',
  'Carla',
  'Chen',
  'Clara',
  'Daniel',
  'Diego',
  'Elena',
  'Emma',
  'Farah',
  'Felix',
  'Grace',
  'Hana',
  'Hugo',
  'Ines',
  'Ivan',
  'Jonas',
  'Julia',
  'Kenji',
  'Lara',
  'Leo',
  'Lina',
  'Marco',
  'Maya',
  'Mei',
  'Nadia',
  'Noah',
  'Olga',
  'Omar',
  'Paula',
  'Priya',
  'Rafael',
  'Rosa',
  'Sami',
  'Sara',
  'Sofia',
  'Tariq',
  'Tom',
  'Vera',
  'Wei',
  'Yara',
  'Yusuf',
  'Zoe',
  'Luca',
] as const;

export const LAST_NAMES = [
  'Almeida',
  'Bauer',
  'Becker',
  'Brown',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Hansen',
  'Ito',
  'Jansen',
  'Kim',
  'Kowalski',
  'Lambert',
  'Lopez',
  'Martin',
  'Meyer',
  'Moreau',
  'Nakamura',
  'Novak',
  'Okafor',
  'Olsen',
  'Patel',
  'Petrov',
  'Rossi',
  'Santos',
  'Schmidt',
  'Silva',
  'Smith',
  'Suzuki',
  'Tanaka',
  'Taylor',
  'Torres',
  'Virtanen',
  'Wagner',
  'Walker',
  'Weber',
  'Wilson',
  'Zhang',
] as const;

export const COMPANY_WORDS = [
  'Acme',
  'Apex',
  'Blue',
  'Bright',
  'Cedar',
  'Coral',
  'Delta',
  'Echo',
  'Falcon',
  'Granite',
  'Harbor',
  'Iris',
  'Juniper',
  'Kite',
  'Lumen',
  'Maple',
  'Nimbus',
  'Orbit',
  'Pine',
  'Quartz',
  'River',
  'Summit',
  'Terra',
  'Union',
  'Vertex',
  'Willow',
  'Zenith',
] as const;
export const COMPANY_NOUNS = [
  'Analytics',
  'Logistics',
  'Foods',
  'Health',
  'Labs',
  'Retail',
  'Systems',
  'Media',
  'Energy',
  'Works',
  'Partners',
  'Robotics',
  'Travel',
  'Finance',
  'Studio',
] as const;
export const COMPANY_SUFFIXES = ['Inc', 'Ltd', 'GmbH', 'SAS', 'BV', 'LLC', 'AB', 'SpA'] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

/** Country, its currency and its weight in the customer base. */
export const COUNTRIES = [
  { code: 'US', currency: 'USD', weight: 30, phone: '+1 555' },
  { code: 'GB', currency: 'GBP', weight: 10, phone: '+44 20 7946' },
  { code: 'DE', currency: 'EUR', weight: 10, phone: '+49 30 5550' },
  { code: 'FR', currency: 'EUR', weight: 8, phone: '+33 1 5550' },
  { code: 'NL', currency: 'EUR', weight: 4, phone: '+31 20 555' },
  { code: 'ES', currency: 'EUR', weight: 5, phone: '+34 91 555' },
  { code: 'IT', currency: 'EUR', weight: 5, phone: '+39 06 555' },
  { code: 'CA', currency: 'CAD', weight: 6, phone: '+1 555' },
  { code: 'AU', currency: 'AUD', weight: 5, phone: '+61 2 5550' },
  { code: 'JP', currency: 'JPY', weight: 5, phone: '+81 3 5555' },
  { code: 'BR', currency: 'BRL', weight: 6, phone: '+55 11 5555' },
  { code: 'IN', currency: 'INR', weight: 6, phone: '+91 22 5555' },
] as const;
export const COUNTRY_WEIGHTS = COUNTRIES.map((c) => c.weight);

/** How many minor units one "US dollar" of price is worth, roughly, per currency. */
export const PRICE_FACTOR: Record<string, number> = {
  USD: 100,
  GBP: 80,
  EUR: 92,
  CAD: 136,
  AUD: 150,
  JPY: 150,
  BRL: 500,
  INR: 8300,
};

export const B2B_PLANS = [
  { plan: 'Starter', mrrUsd: 499 },
  { plan: 'Growth', mrrUsd: 1_490 },
  { plan: 'Business', mrrUsd: 4_990 },
  { plan: 'Enterprise', mrrUsd: 15_000 },
] as const;

export const B2B_CATEGORIES = [
  'how_to',
  'bug',
  'integration',
  'billing',
  'performance',
  'login_issue',
  'data_import',
  'feature_request',
  'permissions',
  'api',
] as const;
export const B2B_CATEGORY_WEIGHTS = [22, 18, 14, 8, 8, 8, 8, 6, 5, 3];
export const B2C_CATEGORIES = [
  'shipping',
  'returns',
  'billing',
  'login_issue',
  'product_question',
  'damaged_item',
  'order_change',
  'payment_failed',
  'account',
] as const;
export const B2C_CATEGORY_WEIGHTS = [24, 16, 12, 10, 12, 8, 8, 6, 4];

export const SUBJECTS: Record<string, readonly string[]> = {
  how_to: ['How do I export a report?', 'Where can I change the default view?', 'Question about roles'],
  bug: ['Dashboard shows an error', 'Numbers do not add up on the summary page', 'Export fails halfway'],
  integration: ['Salesforce sync stopped', 'Webhook deliveries failing', 'SSO setup help'],
  billing: ['Invoice has the wrong address', 'Charged twice this month', 'Need a copy of my receipt'],
  performance: ['The app is very slow today', 'Reports take minutes to load'],
  login_issue: ['Cannot log in', 'Password reset email never arrives', 'Locked out of my account'],
  data_import: ['CSV import rejects my file', 'Import stuck at 90%'],
  feature_request: ['Please add a dark mode', 'Would love bulk editing'],
  permissions: ['Colleague cannot see the project', 'How to give read-only access'],
  api: ['API returns 429 too often', 'Missing field in the API response'],
  shipping: ['Where is my order?', 'Parcel marked delivered but not received', 'Delivery is late'],
  returns: ['How do I return an item?', 'Return label does not work'],
  product_question: ['Is this compatible with my device?', 'What size should I order?'],
  damaged_item: ['Item arrived broken', 'Package was damaged'],
  order_change: ['Change my delivery address', 'Cancel part of my order'],
  payment_failed: ['My card was declined', 'Payment failed at checkout'],
  account: ['Delete my saved card', 'Update my account details'],
};

export const REPLY_BODIES_AGENT = [
  'Thanks for reaching out, I am looking into this now.',
  'Could you send us a screenshot of the error?',
  'We have found the cause and a fix is on its way.',
  'I have applied the change on your account, can you check again?',
  'Sorry for the trouble: here is a workaround while we fix it.',
] as const;
export const REPLY_BODIES_CUSTOMER = [
  'Still happening on my side, unfortunately.',
  'Here is the screenshot you asked for.',
  'Thanks, that worked!',
  'Any update on this?',
  'This is urgent for us, please help.',
] as const;

export const B2B_TOUCHPOINTS = [
  { touchpoint: 'dashboard', channel: 'web' },
  { touchpoint: 'reports', channel: 'web' },
  { touchpoint: 'settings', channel: 'web' },
  { touchpoint: 'api-docs', channel: 'web' },
  { touchpoint: 'help-center', channel: 'web' },
  { touchpoint: 'mobile-home', channel: 'mobile_app' },
  { touchpoint: 'webinar', channel: 'video' },
  { touchpoint: 'community-forum', channel: 'community' },
  { touchpoint: 'billing-page', channel: 'web' },
  { touchpoint: 'account-manager-call', channel: 'phone' },
] as const;
export const B2B_TOUCHPOINT_WEIGHTS = [30, 14, 8, 6, 10, 10, 4, 6, 4, 3];
export const B2C_TOUCHPOINTS = [
  { touchpoint: 'home-page', channel: 'web' },
  { touchpoint: 'product-page', channel: 'web' },
  { touchpoint: 'checkout', channel: 'web' },
  { touchpoint: 'mobile-home', channel: 'mobile_app' },
  { touchpoint: 'mobile-checkout', channel: 'mobile_app' },
  { touchpoint: 'order-tracking', channel: 'web' },
  { touchpoint: 'help-center', channel: 'web' },
  { touchpoint: 'ivr-menu', channel: 'phone' },
  { touchpoint: 'store-visit', channel: 'in_person' },
  { touchpoint: 'promo-sms', channel: 'sms' },
  { touchpoint: 'newsletter', channel: 'email' },
  { touchpoint: 'instagram-dm', channel: 'social' },
] as const;
export const B2C_TOUCHPOINT_WEIGHTS = [20, 22, 10, 14, 6, 8, 6, 3, 4, 2, 3, 2];

export const FEATURES = [
  'dashboards',
  'reports',
  'alerts',
  'api',
  'sso',
  'webhooks',
  'exports',
  'workflows',
  'mobile-app',
  'integrations',
  'audit-log',
  'custom-fields',
  'ai-assistant',
  'bulk-edit',
  'forecasting',
] as const;

export const CRITERIA = [
  'Cut monthly reporting time by half',
  'Replace the legacy ticketing tool',
  'Onboard every regional team',
  'Automate the weekly data import',
  'Reach 80% weekly active users',
  'Reduce churn in the SMB segment by 10%',
  'Connect the CRM and the billing system',
  'Give executives a live revenue dashboard',
  'Shorten first reply time below one hour',
  'Retire three spreadsheets used for forecasting',
] as const;

export const COURSES = [
  'Getting started',
  'Admin fundamentals',
  'Advanced reporting',
  'API and integrations',
  'Workflow automation',
  'Security and SSO',
] as const;

export const FEEDBACK_TOPICS = [
  'pricing',
  'delivery',
  'product-quality',
  'support',
  'app-usability',
  'performance',
  'documentation',
  'onboarding',
  'checkout',
] as const;
export const FEEDBACK_POSITIVE = [
  'Really happy with the service so far.',
  'The new release is great, well done.',
  'Support was quick and friendly.',
  'Delivery was faster than expected.',
] as const;
export const FEEDBACK_NEGATIVE = [
  'Too expensive for what it does.',
  'The app keeps logging me out.',
  'Waited days for an answer from support.',
  'The checkout process is confusing.',
  'Documentation is out of date.',
] as const;

export const REFUND_REASONS = [
  'damaged item',
  'wrong size',
  'not as described',
  'late delivery',
  'changed mind',
] as const;

export const EXPANSION_REASONS = [
  'more seats',
  'plan upgrade',
  'new team onboarded',
  'add-on purchased',
] as const;
export const CONTRACTION_REASONS = [
  'fewer seats',
  'plan downgrade',
  'budget cuts',
  'team reorganised',
] as const;
export const ESCALATION_REASONS = [
  'needs engineering',
  'customer is a key account',
  'SLA at risk',
  'security concern',
] as const;
export const REOPEN_REASONS = ['problem came back', 'fix did not work', 'customer had a follow-up'] as const;
