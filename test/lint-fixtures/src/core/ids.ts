export const MEMBER_ID = 'member_id'
